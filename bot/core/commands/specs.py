"""Every `/news …` command's spec, in the order `help` lists them (one tree for all adapters),
and the limits the handlers share."""

from __future__ import annotations

from bot.core.commands.grammar import DRY_RUN, _a

MAX_COMPLETIONS = 25
DEFAULT_LATEST = 5
MAX_LATEST = 20
MAX_SEARCH = 10
MAX_MISSED = 15
MODES = {"realtime": "alerts as stories happen", "digest": "only in the digest",
         "both": "alerts as they happen and the digest"}  # fmt: skip


_DRY = _a("dry-run", "choice", required=False, choices=(DRY_RUN,))
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
