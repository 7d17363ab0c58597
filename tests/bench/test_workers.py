"""The workers benchmark runs end to end on a tiny site: workers split the feeds, none twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")


@pytest.mark.skipif(
    not POSTGRES_URL, reason="NEWSBOT_TEST_POSTGRES_URL is unset; the workers share PostgreSQL"
)
def test_a_tiny_run_splits_the_feeds_between_workers_and_fetches_none_twice() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.workers", "--feeds", "60", "--items", "2",
         "--workers", "1,2", "--concurrency", "10", "--latency", "0.01,0.05",
         "--database", str(POSTGRES_URL)],
        capture_output=True, text=True, cwd=ROOT, timeout=110,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("floor (bare aiohttp + feedparser")
    runs = [line for line in lines if line.startswith("Poller.poll_due")]
    assert len(runs) == 2
    assert all("fetched twice 0; not fetched 0; failed 0" in line for line in runs)
    two = next(line for line in runs if "2 worker(s)" in line)
    shares = [int(n) for n in two.split("shares ")[1].split(";")[0].split(", ")]
    assert sum(shares) == 60 and min(shares) >= 1, two  # under load one worker may start late


def test_the_benchmark_refuses_a_database_off_this_machine() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.workers", "--database", "postgresql://u@db.example.org/x"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip

    assert out.returncode != 0
    assert "only against a database on this machine" in out.stderr
