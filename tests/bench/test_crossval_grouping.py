"""The grouping-only loop of bench.crossval runs end to end and prints every figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_grouping_only_prints_the_whole_set_and_both_stress_figures() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.crossval", "tests/testdata/eval/dev.jsonl",
         "--grouping-only"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("whole set, config as is: story pairwise F1=")
    assert [line.split(" days")[0] for line in lines[1:]] == [
        "stress: all stories crowded into 60",
        "stress: all stories crowded into 20",
    ]
    # No grid: the folds' tuning lines of the full command are not there.
    assert not any(line.startswith("fold") for line in lines)
