"""torchrun, as ``cdl train --nproc`` runs it: a failed worker is reported in one line.

torchrun (``python -m torch.distributed.run``) ends a failed launch by raising
``ChildFailedError`` from its own process: a traceback of the launcher's internals that says
nothing the workers did not already say (each cdl worker prints its own error). This entry
point runs the same launcher and turns that exception into one line and the workers' exit
status.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import parse_args, run


def main(argv: Sequence[str]) -> int:
    try:
        run(parse_args(list(argv)))
    except ChildFailedError as e:
        codes = sorted({f.exitcode for f in e.failures.values()})
        ranks = ", ".join(str(r) for r in sorted(e.failures))
        print(f"cdl train: worker rank(s) {ranks} failed (exit status "
              f"{', '.join(map(str, codes))}); their messages are above", file=sys.stderr)
        return next((c for c in codes if c > 0), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
