"""``python -m dockermig.cli``."""

import sys

from dockermig.cli import main

sys.exit(main())
