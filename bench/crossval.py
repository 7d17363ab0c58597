"""5-fold cross-validation grouped by story: ``python -m bench.crossval [ITEMS.jsonl]``.

The same run as ``newsbot eval ITEMS.jsonl --folds 5`` (bot/crossval.py), kept under bench/
beside the other measurements.
"""

import sys

from bot.crossval import main

if __name__ == "__main__":
    sys.exit(main())
