"""``python -m dockermig``."""

import sys

from dockermig.cli import main

sys.exit(main())
