"""cdl's compiler: spaces, Para morphisms, functors, the loss plan and its lowering."""

from .errors import BatchError, CompilerError, FunctorError, UnboundSymbolError
from .functor import Functor
from .para import Para
from .plan import Plan
from .program import Program, compile_functor
from .spaces import Euclid, ProductSpace, Space

__all__ = [
    "BatchError",
    "CompilerError",
    "Euclid",
    "Functor",
    "FunctorError",
    "Para",
    "Plan",
    "Program",
    "ProductSpace",
    "Space",
    "UnboundSymbolError",
    "compile_functor",
]
