"""`python -m scenarios.cli`: the same as the `sharesim` console script."""

import sys

from scenarios.cli import main

sys.exit(main())
