"""``python -m evals.bench`` = ``shopassist bench``."""

import sys

from shopassist.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
