"""`python -m bench`: run the benchmark and exit with its status."""

import sys

from bench.run import main

sys.exit(main())
