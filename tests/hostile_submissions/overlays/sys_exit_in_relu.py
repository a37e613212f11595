"""relu calls sys.exit(4): SystemExit is caught per probe; only the relu checks fail."""

import sys


def relu(x):
    sys.exit(4)
