"""cdl's compiler: spaces, Para morphisms, functors, the loss plan and its lowering.

A :class:`Functor` assigns a :class:`Space` (``Euclid``, products) to every object and a
``torch.nn.Module`` to every generating arrow; :func:`compile_functor` (``assembly.py``)
turns it, with one critic per plain object, into a :class:`Program`, in stages:

1. **options** (``options.py``): :class:`CompileOptions` checks every keyword option;
   then the options are resolved against the functor (``assembly.resolve``);
2. **plan** (``plan.py``): passes over one IR — collect the evaluations (adversarial
   loss of each needed generator whose domain has data, both sides of each equation),
   build one prefix trie per source object (each distinct path prefix is one node,
   evaluated once), attach one critic per object receiving fakes (per factor of a
   product) with the adversarial loss's regulariser (``losses.py``: a table whose rows
   carry it), then check the plan against the functor (every problem in one error);
3. **fusion** (``fusion.py``), passes of the same pipeline: networks of identical
   architecture form *banks* whose parameters live stacked (``[members, …]``; each
   module's parameters become views into the stack, so the modules stay the source of
   truth); the nodes of one depth whose networks share a bank become one call — emitted
   layer by layer as batched matmuls when the network traces into known layers
   (``stacked.py``), otherwise ``vmap(functional_call)``;
4. **lowering** (``lowering.py``, ``terms.py``): one ``torch.fx`` graph for the
   generator losses and one for the critic losses (fakes detached); the many small loss
   terms are reduced in groups and summed into named losses by one constant matrix;
5. **program** (``program.py``): ``torch.compile(fullgraph=True)`` of each entry point
   (``backend="eager"`` runs the same graphs uncompiled); ``step`` runs both graphs as
   one compiled graph and one backward pass, then one fused Adam update over the
   stacked parameters; ``critic_step`` updates the critics alone (``n_critic > 1``);
   with ``fake_pool`` the critics see a history of fakes (``pool.py``), updated in
   those graphs and kept in ``Program.state_dict()``. With ``regional=True`` each lone
   network is one nested compile region, built once per architecture (``fallback.py``:
   inlined again if torch fails on it); what is compiled is kept in a cache folder of
   cdl's own and can travel with a run to other machines (``cache.py``).
"""

from .assembly import compile_functor
from .composite import PathModule
from .errors import (
    BatchError,
    CompilerError,
    FunctorError,
    NonFiniteLossError,
    ProgramNotPicklable,
    SpaceError,
    UnboundSymbolError,
    UnknownKeyError,
)
from .functor import Functor
from .migrate import PulledEquation, init_arrow, pullback_residuals, same_architecture
from .options import CompileOptions
from .para import Para
from .plan import Plan
from .program import Program
from .spaces import Euclid, ProductSpace, Space

__all__ = [
    "BatchError",
    "CompileOptions",
    "CompilerError",
    "Euclid",
    "Functor",
    "FunctorError",
    "NonFiniteLossError",
    "Para",
    "PathModule",
    "Plan",
    "Program",
    "ProgramNotPicklable",
    "ProductSpace",
    "PulledEquation",
    "Space",
    "SpaceError",
    "UnboundSymbolError",
    "UnknownKeyError",
    "compile_functor",
    "init_arrow",
    "pullback_residuals",
    "same_architecture",
]
