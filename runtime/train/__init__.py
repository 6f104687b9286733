"""Training: the loop (:mod:`.trainer`) and what it stands on — its options
(:mod:`.options`), the networks' weights (:mod:`.networks`) and their moving average
(:mod:`.average`), the state of an exact resume (:mod:`.state`), checkpoints
(:mod:`.checkpoint`), batches (:mod:`.loader`), sample rows (:mod:`.samples`), the bar
and the log (:mod:`.progress`), signals (:mod:`.signals`), the run folder
(:mod:`.run_folder`), data-parallel training (:mod:`.distributed`, :mod:`.restarts`,
:mod:`.torchrun`).
"""

from .options import Hooks, TrainOptions
from .state import linear_decay
from .trainer import Trainer

__all__ = ["Hooks", "TrainOptions", "Trainer", "linear_decay"]
