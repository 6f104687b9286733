"""``python -m runtime`` is the ``cdl`` command."""

import sys

from .cli import main

sys.exit(main())
