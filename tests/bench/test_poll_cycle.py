"""The poll-cycle benchmark still runs end to end, on a tiny site, and reports every figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_benchmark_run_reports_each_cycle_and_memory() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.poll_cycle", "--runs", "1", "--feeds", "20",
         "--items", "5", "--extra-rows", "2", "--latency", "0.001,0.002"],
        capture_output=True, text=True, cwd=ROOT, timeout=100,
    )  # fmt: skip

    assert out.returncode in (0, 1), out.stderr  # 1 only says a target was missed
    lines = out.stdout.splitlines()
    first = next(line for line in lines if line.strip().startswith("first cycle"))
    changed = [line for line in lines if line.strip().startswith("5% changed")]
    assert "new    100" in first and "failed 0" in first
    assert len(changed) == 2 and all("new      1" in line for line in changed)
    assert any(line.strip().startswith("peak RSS") for line in lines)
