"""`python -m grading`: the instructor's commands (grading/cli.py)."""

import sys

from grading.cli import main

sys.exit(main())
