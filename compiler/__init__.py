"""cdl's compiler: spaces, Para morphisms, functors, the loss plan and its lowering."""

from .errors import BatchError, CompilerError, FunctorError, UnboundSymbolError
from .functor import Functor
from .para import Para
from .spaces import Euclid, ProductSpace, Space

__all__ = [
    "BatchError",
    "CompilerError",
    "Euclid",
    "Functor",
    "FunctorError",
    "Para",
    "ProductSpace",
    "Space",
    "UnboundSymbolError",
]
