"""Poll-cycle benchmark: 1,000 feeds × 30 items on loopback through the real poll path.

    python -m bench.poll_cycle --runs 3

Each run is a fresh process (so peak RSS is that run's) talking to a feed server in another
process (so the server's CPU is not counted). A run measures three cycles:

1. first poll: every feed answers 200 and all 30,000 items are new;
2. 5% of feeds changed (one new item each), the rest answer 304;
3. the 5% cycle again after ten times as many rows were added to the items table (items
   earlier polls stored, one a minute back in time, and matched), to show the cycle's cost
   does not grow with the rows stored.

By default what runs is ``Poller.poll_due`` (fetch → parse → store), the ingest stage the
lead's ``Pipeline.run_cycle`` calls first. ``--pipeline`` runs the whole ``run_cycle`` (poll,
match, group, plan delivery; no chat adapter). ``--baseline`` runs bare aiohttp + feedparser
(its default settings) with no storage, to read the figures against on the same machine;
``--baseline lean`` the same with feedparser's sanitiser and URI rewriting off, as the bot
runs it: the floor for any poller built on these two libraries. ``--parse-workers N``
parses in a pool of N processes (their CPU and RSS are added to the bot's).

CPU is the process's own (all threads), RSS is ``ru_maxrss``. The machine's load average is
printed alongside: on a shared machine, other work inflates wall and CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: python bench/poll_cycle.py
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.config import PollConfig  # noqa: E402
from bot.core.ingest import Poller  # noqa: E402
from bot.core.models import Feed  # noqa: E402
from bot.core.parse import parse_many  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.tables import FeedRow, ItemRow, MatchRow  # noqa: E402

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from aiohttp import web

# The measured process imports only what the bot itself would: the feed server's modules
# (aiohttp.web, tests.feedserver) and the process pool are imported where they are used,
# so their memory is not counted against the poller's.

EVAL_ITEMS = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"
START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
TARGETS = {"first": (8.0, None), "changed": (2.5, 1.0), "changed_big": (2.5, 1.0)}
RSS_TARGET_MB = 120.0


@dataclass(frozen=True)
class Options:
    feeds: int
    items: int
    changed: float
    extra_rows_factor: int
    concurrency: int
    latency: tuple[float, float]
    seed: int
    baseline: str = ""  # "", "defaults" or "lean"
    pipeline: bool = False
    parse_workers: int = 0


# -- the feed server (its own process) ----------------------------------------------------


class BenchSite:
    """Builds the fixture feeds and changes a fraction of them on request."""

    def __init__(self, opts: Options) -> None:
        from tests.feedserver import FeedServer

        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.server = FeedServer(latency=opts.latency, seed=opts.seed, record=False)
        self.pool = [json.loads(line) for line in EVAL_ITEMS.read_text().splitlines() if line]
        self.serial = [opts.items] * opts.feeds  # next item number per feed
        for f in range(opts.feeds):
            self._publish(f)
        self.server.app.router.add_post("/_bench/change", self._change)

    def _item(self, feed: int, n: int) -> dict[str, Any]:
        src = self.pool[(feed * 31 + n) % len(self.pool)]
        return {
            "title": f"{src['title']} ({feed}.{n})",
            "summary": f"<p>{src['summary']}</p><p><a href='{src['url']}'>Read more</a></p>",
            "url": f"https://site{feed % 97}.example.com/news/{feed}/{n}?utm_source=rss&id={n}",
            "published": START - timedelta(minutes=feed + 7 * n),
            "guid": f"urn:bench:{feed}:{n}",
        }

    def _publish(self, feed: int) -> None:
        top = self.serial[feed]
        items = [self._item(feed, n) for n in range(top - 1, top - 1 - self.opts.items, -1)]
        self.server.add_feed(f"/feed/{feed}", items, title=f"Bench feed {feed}")

    async def _change(self, request: web.Request) -> web.Response:
        from aiohttp import web

        fraction = float(request.query.get("fraction", "0.05"))
        chosen = self.rng.sample(range(self.opts.feeds), round(self.opts.feeds * fraction))
        for feed in chosen:
            self.serial[feed] += 1
            self._publish(feed)
        return web.json_response({"changed": len(chosen)})


async def serve(opts: Options) -> None:
    site = BenchSite(opts)
    await site.server.start()
    print(f"PORT {site.server.port}", flush=True)
    # Stop when the parent closes our stdin (it exited or is done with us).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await site.server.stop()


# -- one measured run (its own process) ---------------------------------------------------


def start_server(opts: Options) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.poll_cycle", "--serve", *_option_args(opts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the feed server did not start (said {line!r})")
    return proc, int(line.split()[1])


@dataclass
class BareResult:
    new_items: list[Any]
    outcomes: list[Any]
    failed: list[Any]


class BareBaseline:
    """aiohttp + feedparser (default settings) and nothing else: no storage, no cleaning.

    What this machine can do at best, to read the poller's figures against.
    """

    def __init__(self, urls: Sequence[str], concurrency: int, *, lean: bool = False) -> None:
        self.urls = urls
        self.concurrency = concurrency
        # lean: feedparser as the bot calls it (no sanitiser, no relative-URI rewriting).
        self.options = {"sanitize_html": False, "resolve_relative_uris": False} if lean else {}
        self.etags: dict[str, str] = {}
        self.seen: set[str] = set()
        # Importing the bot's parser put its buffering SAX driver first in feedparser's list;
        # the baseline is bare feedparser, so it parses with the stock driver. (Each run is
        # its own process, so the bot's runs are unaffected.)
        import feedparser.api

        from bot.core import saxdriver

        while saxdriver.__name__ in feedparser.api.PREFERRED_XML_PARSERS:
            feedparser.api.PREFERRED_XML_PARSERS.remove(saxdriver.__name__)

    async def poll_due(self, now: datetime, *, force: bool = True) -> BareResult:
        import aiohttp
        import feedparser

        new: list[Any] = []
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(url: str) -> None:
                headers = {"If-None-Match": self.etags[url]} if url in self.etags else {}
                async with session.get(url, headers=headers) as resp:
                    if resp.status == 304:
                        return
                    body = await resp.read()
                    self.etags[url] = resp.headers.get("ETag", "")
                parsed = await asyncio.to_thread(partial(feedparser.parse, body, **self.options))
                for entry in parsed.entries:
                    if entry.id not in self.seen:
                        self.seen.add(entry.id)
                        new.append(entry)

            await asyncio.gather(*(one(u) for u in self.urls))
        return BareResult(new, list(self.urls), [])


class PipelineRunner:
    """The lead's whole cycle, ``Pipeline.run_cycle``: poll, match, group, plan delivery.

    The database is seeded from config/newsbot.yaml without its (internet) feeds; no chat
    adapter and no subscription, so nothing is posted.
    """

    def __init__(self, db: Database, opts: Options) -> None:
        from bot.config import load_config
        from bot.core.alerts import Alerts
        from bot.core.outbox import Outbox
        from bot.core.pipeline import Pipeline
        from bot.storage.configstore import seed

        cfg = load_config(ROOT / "config" / "newsbot.yaml")
        poll = cfg.poll.model_copy(update={"concurrency": opts.concurrency, "timeout": 20})
        cfg = cfg.model_copy(update={"feeds": [], "poll": poll})
        db.transaction(lambda s: seed(s, cfg, now=START))
        self.now = START
        self.pipeline = Pipeline(db, Alerts(Outbox(db, {})), clock=lambda: self.now)

    async def poll_due(self, now: datetime, *, force: bool = True) -> BareResult:
        self.now = now
        report = await self.pipeline.run_cycle(force=force)
        failed = [o for o in report.outcomes if o.status == "failed"]
        return BareResult([None] * report.new_items, list(report.outcomes), failed)


Runner = Poller | BareBaseline | PipelineRunner


def start_parse_pool(workers: int) -> ProcessPoolExecutor | None:
    """A warmed-up pool of parse processes, as an app would hold for its lifetime."""
    if workers <= 0:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tests.feedserver import rss_from_items

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    warm = [(rss_from_items([{"title": "warm-up"}]).encode(), Feed(0, "http://x/", "x"), None)]
    list(pool.map(parse_many, [warm] * workers * 2))
    return pool


def _worker_pids(pool: ProcessPoolExecutor | None) -> list[int]:
    # The pool keeps its processes private; the benchmark needs their pids to count their CPU.
    return list(getattr(pool, "_processes", {}) or {}) if pool else []


def _cpu_of(pids: Sequence[int]) -> float:
    """User + system CPU seconds of other processes, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _peak_rss_mb_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


async def measure(
    name: str, poller: Runner, now: datetime, workers: Sequence[int] = ()
) -> dict[str, Any]:
    wall0, cpu0, wcpu0 = time.perf_counter(), time.process_time(), _cpu_of(workers)
    result = await poller.poll_due(now, force=True)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0 + _cpu_of(workers) - wcpu0
    failed = result.failed
    if failed:
        print(f"  {len(failed)} feeds failed, e.g. {failed[0].message}", file=sys.stderr)
    return {"phase": name, "wall": wall, "cpu": cpu, "new_items": len(result.new_items),
            "feeds": len(result.outcomes), "failed": len(failed)}  # fmt: skip


async def change(port: int, fraction: float) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/_bench/change?fraction={fraction}"
        async with session.post(url) as resp:
            resp.raise_for_status()


def add_feeds(db: Database, port: int, count: int) -> None:
    rows = [{"url": f"http://127.0.0.1:{port}/feed/{f}", "name": f"Bench feed {f}",
             "added_at": START, "failures": 0, "health": "new", "paused": False,
             "alert_on_first_poll": False, "comment": "", "added_by": "bench",
             "allow_private": True}
            for f in range(count)]  # fmt: skip
    db.transaction(lambda s: s.execute(insert(FeedRow), rows))


def create_schema(db_path: Path) -> None:
    """``newsbot db upgrade`` in its own process: the measured process is a bot (re)started
    on a database that exists, as it is on every start but the very first. (That first
    start also imports Alembic to create the schema, which keeps about 8 MB more.)"""
    env = os.environ | {"NEWSBOT_DATABASE_URL": f"sqlite:///{db_path}"}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        check=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def add_filler_items(db_path: Path, count: int) -> None:
    """Rows that look like items stored earlier; a separate process writes them, so the
    filler's own memory and CPU are not counted against the poller's."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.poll_cycle",
            "--fill",
            str(db_path),
            "--fill-rows",
            str(count),
        ],
        check=True,
        cwd=ROOT,
    )


def fill(db_path: Path, count: int) -> None:
    # Earlier polls stored these, one a minute going back in time, and matched them.
    db = Database.open(f"sqlite:///{db_path}")
    chunk = 5000
    for start in range(0, count, chunk):
        rows = [{"key": f"{n:064x}", "url": f"https://filler.example.net/a/{n}",
                 "guid": f"urn:filler:{n}", "feed_id": None, "title": f"Filler item {n}",
                 "summary": "Stored earlier.", "source": "Filler", "alertable": False,
                 "published_at": START - timedelta(minutes=n + 1),
                 "first_seen_at": START - timedelta(minutes=n + 1)}
                for n in range(start, min(start + chunk, count))]  # fmt: skip
        db.transaction(partial(_insert_items, rows=rows))
    db.close()


def _insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    ids = session.scalars(insert(ItemRow).returning(ItemRow.id), rows).all()
    matches = [{"item_id": i, "relevant": False, "score": 0.0, "topics": [], "why": "",
                "evidence": {}, "matched_at": START} for i in ids]  # fmt: skip
    session.execute(insert(MatchRow), matches)


async def one_run(opts: Options) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    server, port = start_server(opts)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "bench.db"
            create_schema(db_path)
            db = Database.open(f"sqlite:///{db_path}")
            runner: PipelineRunner | None = PipelineRunner(db, opts) if opts.pipeline else None
            add_feeds(db, port, opts.feeds)
            poll = PollConfig(concurrency=opts.concurrency, timeout=20)
            pool = start_parse_pool(opts.parse_workers)
            workers = _worker_pids(pool)
            poller: Runner = runner or Poller(
                db, poll, parse_pool=pool, parse_workers=opts.parse_workers
            )
            if opts.baseline:
                urls = [f"http://127.0.0.1:{port}/feed/{f}" for f in range(opts.feeds)]
                poller = BareBaseline(urls, opts.concurrency, lean=opts.baseline == "lean")
            phases = [await measure("first", poller, START, workers)]
            await change(port, opts.changed)
            phases.append(await measure("changed", poller, START + timedelta(minutes=15), workers))
            add_filler_items(db_path, opts.feeds * opts.items * opts.extra_rows_factor)
            await change(port, opts.changed)
            phases.append(
                await measure("changed_big", poller, START + timedelta(minutes=30), workers)
            )
            workers_rss = _peak_rss_mb_of(workers)
            if pool:
                pool.shutdown()
            db.close()
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"phases": phases, "peak_rss_mb": peak_mb + workers_rss, "bot_rss_mb": peak_mb,
            "load": f"{load_before:.1f}→{os.getloadavg()[0]:.1f}"}  # fmt: skip


# -- the driver ---------------------------------------------------------------------------


def run_child(opts: Options) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.poll_cycle", "--one-run", *_option_args(opts)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.stderr.strip():
        print(out.stderr.strip(), file=sys.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(opts: Options, runs: Sequence[dict[str, Any]]) -> bool:
    what = "Poller.poll_due"
    if opts.baseline:
        what = f"BASELINE bare aiohttp + feedparser ({opts.baseline})"
    elif opts.pipeline:
        what = "Pipeline.run_cycle (poll + match + group + plan)"
    if opts.parse_workers:
        what += f", parsing in {opts.parse_workers} worker processes (their CPU and RSS counted)"
    print(f"{what}: {opts.feeds} feeds × {opts.items} items, latency "
          f"{opts.latency[0] * 1000:.0f}–{opts.latency[1] * 1000:.0f} ms, concurrency "
          f"{opts.concurrency}, {len(runs)} runs (min / median / max)")  # fmt: skip
    print("  load average before / after: " + " / ".join(r["load"] for r in runs))
    ok = True
    for i, name in enumerate(("first", "changed", "changed_big")):
        walls = [r["phases"][i]["wall"] for r in runs]
        cpus = [r["phases"][i]["cpu"] for r in runs]
        new = runs[0]["phases"][i]["new_items"]
        failed = max(r["phases"][i]["failed"] for r in runs)
        wall_t, cpu_t = TARGETS[name]
        verdict = max(walls) <= wall_t and (cpu_t is None or max(cpus) <= cpu_t) and not failed
        ok &= verdict
        label = {
            "first": "first cycle (all new)",
            "changed": f"{opts.changed:.0%} changed",
            "changed_big": f"{opts.changed:.0%} changed, {opts.extra_rows_factor}× rows",
        }[name]
        target = f"≤{wall_t:g}s" + (f", cpu ≤{cpu_t:g}s" if cpu_t else "")
        print(
            f"  {label:<28} wall {_mmm(walls)} s   cpu {_mmm(cpus)} s   new {new:>6}  "
            f"failed {failed}  target {target}: {'OK' if verdict else 'MISSED'}"
        )
    rss = [r["peak_rss_mb"] for r in runs]
    if opts.parse_workers:
        bot_only = [r["bot_rss_mb"] for r in runs]
        print(f"  peak RSS of the bot process alone {_mmm(bot_only, '.0f')} MB")
    rss_ok = max(rss) <= RSS_TARGET_MB
    print(f"  peak RSS {_mmm(rss, '.0f')} MB   target ≤{RSS_TARGET_MB:g} MB: "
          f"{'OK' if rss_ok else 'MISSED'}")  # fmt: skip
    return ok and rss_ok


def _mmm(values: Sequence[float], fmt: str = ".2f") -> str:
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def _option_args(opts: Options) -> list[str]:
    args = ["--feeds", str(opts.feeds), "--items", str(opts.items), "--changed",
            str(opts.changed), "--extra-rows", str(opts.extra_rows_factor), "--concurrency",
            str(opts.concurrency), "--latency", f"{opts.latency[0]},{opts.latency[1]}",
            "--seed", str(opts.seed), "--parse-workers", str(opts.parse_workers)]  # fmt: skip
    baseline = ["--baseline", opts.baseline] if opts.baseline else []
    return args + baseline + (["--pipeline"] if opts.pipeline else [])


def _args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Options]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=30)
    p.add_argument("--changed", type=float, default=0.05, help="fraction of feeds that change")
    p.add_argument("--extra-rows", type=int, default=10, help="× the first cycle's rows")
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--latency", default="0.06,0.54", help="seconds: low,high")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--baseline",
        nargs="?",
        const="defaults",
        default="",
        choices=["defaults", "lean"],
        help="measure bare aiohttp + feedparser (no storage) instead of the poller; "
        "lean: feedparser's sanitiser and URI rewriting off, as the bot runs it",
    )
    p.add_argument(
        "--parse-workers",
        type=int,
        default=0,
        help="parse in a pool of this many processes (0: in the poller's thread)",
    )
    p.add_argument(
        "--pipeline",
        action="store_true",
        help="measure the whole cycle (Pipeline.run_cycle: poll, match, group, plan)",
    )
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--fill", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--fill-rows", type=int, default=0, help=argparse.SUPPRESS)
    ns = p.parse_args(argv)
    low, high = (float(x) for x in ns.latency.split(","))
    opts = Options(ns.feeds, ns.items, ns.changed, ns.extra_rows, ns.concurrency, (low, high),
                   ns.seed, ns.baseline, ns.pipeline, ns.parse_workers)  # fmt: skip
    return ns, opts


def main(argv: Sequence[str] | None = None) -> int:
    ns, opts = _args(argv)
    if ns.serve:
        asyncio.run(serve(opts))
        return 0
    if ns.fill:
        fill(ns.fill, ns.fill_rows)
        return 0
    if ns.one_run:
        print(json.dumps(asyncio.run(one_run(opts))))
        return 0
    runs = []
    for n in range(ns.runs):
        runs.append(run_child(opts))
        phases = ", ".join(f"{p['phase']} {p['wall']:.2f}s" for p in runs[-1]["phases"])
        print(f"run {n + 1}: {phases}", file=sys.stderr)
    return 0 if report(opts, runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
