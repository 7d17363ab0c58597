"""Workers benchmark: feeds per second with 1, 2 and 3 workers sharing one PostgreSQL.

    python -m bench.workers --feeds 1000 --workers 1,2,3

A feed server in its own process serves ``--feeds`` feeds (the ``bench.poll_cycle`` site:
``--items`` items each, 60–540 ms latency). For each worker count a fresh schema is made,
the feeds added, and N worker processes started together; each runs one poll cycle
(``Poller.poll_due``, or with ``--pipeline`` the whole ``Pipeline.run_cycle``: poll, match,
group, plan) on the due feeds, claiming batches as it goes. Reported: the wall time from the
common start to the last worker's end, feeds per second, each worker's share, and whether any
feed was fetched twice. The floor is bare aiohttp + feedparser (``poll_cycle``'s lean
baseline, no storage) in one process on the same site in the same run.

PostgreSQL only (``--database``, default ``NEWSBOT_TEST_POSTGRES_URL`` or the local server),
and only on loopback: the benchmark refuses any other host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.poll_cycle import START, BareBaseline, Options, add_feeds, start_server  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _schema_url(base: str, schema: str) -> str:
    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"


def fresh_schema(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, _schema_url(base, schema)


def drop_schema(base: str, schema: str) -> None:
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


async def worker(url: str, owner: str, start_at: float, concurrency: int, pipeline: bool) -> None:
    """One worker process: wait for the common start, run one cycle, print what it did."""
    from bot.config import PollConfig
    from bot.core.ingest import Poller
    from bot.storage.db import Database

    db = Database.open(url, migrate_schema=False)
    poll = PollConfig(concurrency=concurrency, timeout=20)
    runner: Any = Poller(db, poll, owner=owner)
    if pipeline:
        from bench.poll_cycle import PipelineRunner

        runner = PipelineRunner(db, _opts(0, 0, concurrency))  # seeding is done once: a no-op
    await asyncio.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    result = await runner.poll_due(START, force=False)
    ended = time.time()
    ids = sorted(o.feed_id for o in result.outcomes)
    done = {"owner": owner, "feeds": ids, "began": began, "ended": ended,
            "failed": len(result.failed), "new_items": len(result.new_items)}  # fmt: skip
    print(json.dumps(done))
    db.close()


def _opts(
    feeds: int, items: int, concurrency: int, latency: tuple[float, float] = (0.06, 0.54)
) -> Options:
    return Options(feeds=feeds, items=items, changed=0.05, extra_rows_factor=0,
                   concurrency=concurrency, latency=latency, seed=1)  # fmt: skip


def run_workers(url: str, count: int, concurrency: int, pipeline: bool) -> list[dict[str, Any]]:
    start_at = time.time() + 3.0  # time for every process to import and connect
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.workers",
                "--worker",
                "--url",
                url,
                "--owner",
                f"bench-{count}-{n}:{n}",
                "--start-at",
                str(start_at),
                "--concurrency",
                str(concurrency),
            ]
            + (["--pipeline"] if pipeline else []),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    outs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode:
            raise SystemExit(f"a worker failed (exit {proc.returncode})")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


async def floor(port: int, feeds: int, concurrency: int) -> float:
    urls = [f"http://127.0.0.1:{port}/feed/{f}" for f in range(feeds)]
    bare = BareBaseline(urls, concurrency, lean=True)
    began = time.perf_counter()
    await bare.poll_due(START)
    return time.perf_counter() - began


def prepare(url: str, port: int, feeds: int, pipeline: bool, concurrency: int) -> None:
    from bot.storage.db import Database

    db = Database.open(url)
    if pipeline:
        from bench.poll_cycle import PipelineRunner

        PipelineRunner(db, _opts(feeds, 0, concurrency))  # seeds topics and thresholds
    add_feeds(db, port, feeds)
    db.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=10)
    p.add_argument("--workers", default="1,2,3")
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--latency", default="0.06,0.54", help="seconds: low,high")
    p.add_argument("--pipeline", action="store_true", help="the whole cycle, not only ingest")
    p.add_argument("--database", default=os.environ.get("NEWSBOT_TEST_POSTGRES_URL", DEFAULT_URL))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--owner", help=argparse.SUPPRESS)
    p.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        asyncio.run(worker(args.url, args.owner, args.start_at, args.concurrency, args.pipeline))
        return 0
    if make_url(args.database).host not in LOOPBACK:
        raise SystemExit("the benchmark runs only against a database on this machine")
    low, high = (float(x) for x in args.latency.split(","))
    server, port = start_server(_opts(args.feeds, args.items, args.concurrency, (low, high)))
    try:
        bare = asyncio.run(floor(port, args.feeds, args.concurrency))
        print(f"floor (bare aiohttp + feedparser, lean, 1 process): {bare:.2f} s, "
              f"{args.feeds / bare:.0f} feeds/s; load {os.getloadavg()[0]:.1f}")  # fmt: skip
        what = "Pipeline.run_cycle" if args.pipeline else "Poller.poll_due"
        for count in (int(n) for n in args.workers.split(",")):
            schema, url = fresh_schema(args.database)
            try:
                prepare(url, port, args.feeds, args.pipeline, args.concurrency)
                outs = run_workers(url, count, args.concurrency, args.pipeline)
            finally:
                drop_schema(args.database, schema)
            _report(what, count, args.feeds, outs, bare)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
    return 0


def _report(what: str, count: int, feeds: int, outs: list[dict[str, Any]], bare: float) -> None:
    wall = max(o["ended"] for o in outs) - min(o["began"] for o in outs)
    fetched = [f for o in outs for f in o["feeds"]]
    twice = len(fetched) - len(set(fetched))
    shares = ", ".join(str(len(o["feeds"])) for o in outs)
    print(f"{what}, {count} worker(s): {wall:.2f} s, {feeds / wall:.0f} feeds/s "
          f"({wall / bare:.1f}× the floor); shares {shares}; fetched twice {twice}; "
          f"not fetched {feeds - len(set(fetched))}; failed {sum(o['failed'] for o in outs)}; "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
