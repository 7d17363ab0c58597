"""No dead code: vulture finds nothing in bot/ and bench/ beyond the names a framework or the
tests use, which .ci/vulture_whitelist.py lists with who uses them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WHITELIST = ROOT / ".ci" / "vulture_whitelist.py"


@pytest.mark.skipif(
    shutil.which("vulture", path=str(Path(sys.executable).parent)) is None,
    reason="vulture is not installed (pip install -e '.[dev]' brings it)",
)
def test_vulture_finds_no_unused_code() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "vulture"), "bot", "bench", str(WHITELIST),
         "--min-confidence", "60",
         # A handler declared with @command is called through the dispatch table it fills.
         "--ignore-decorators", "@command",
         "--exclude", "bot/storage/migrations,bot/reference_scorer.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, "unused code (delete it, or list who uses it):\n" + done.stdout
