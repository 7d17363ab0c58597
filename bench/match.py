"""Throughput of matching and story grouping on one core, against a SQLite file.

``python -m bench.match [--items 20000] [--batch 500] [--repeat 3]``

Items are synthesised from tests/testdata/eval/dev.jsonl: copy *c* of each item is moved
``7·c`` days later and its title gets a distinct word, so the grouper sees a steady stream of
events with open stories around. Items are stored first (not timed, as the poller stores them);
then every item is matched, its match saved, and the relevant ones grouped, in published order,
in transactions of ``--batch`` items — what the live pipeline does in each poll cycle.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.config import load_config
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.core.stories import StoryGrouper
from bot.evaluation import read_items
from bot.storage.db import Database
from bot.storage.stories import save_matches
from bot.storage.tables import ItemRow

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"
CONFIG = ROOT / "config" / "newsbot.yaml"


def synthesise(n: int) -> list[Item]:
    with DEV.open(encoding="utf-8") as fh:
        base = read_items(fh, str(DEV)).items
    out: list[Item] = []
    copy = 0
    while len(out) < n:
        shift = timedelta(days=7 * copy)
        for ev in base:
            if len(out) >= n:
                break
            at = ev.published + shift
            out.append(Item(id=0, key=f"{ev.id}-{copy}", feed_id=None,
                            title=f"{ev.title} (Zeta{copy})", summary=ev.summary,
                            url=f"{ev.url}?copy={copy}" if ev.url else None,
                            source=ev.source, published=at, first_seen=at))  # fmt: skip
        copy += 1
    out.sort(key=lambda i: (i.published or i.first_seen, i.key))
    return out


def store(db: Database, items: list[Item]) -> list[Item]:
    """Insert the items in bulk and return them with their row ids."""
    rows = [{"key": i.key, "url": i.url, "title": i.title, "summary": i.summary,
             "source": i.source, "published_at": i.published, "first_seen_at": i.first_seen,
             "alertable": True} for i in items]  # fmt: skip
    db.transaction(lambda s: s.execute(insert(ItemRow), rows))

    def keys(session: Session) -> dict[str, int]:
        return {key: row_id for key, row_id in session.execute(select(ItemRow.key, ItemRow.id))}

    ids = db.transaction(keys)
    return [replace(i, id=ids[i.key]) for i in items]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median, best)")
    args = parser.parse_args(argv)
    cfg = load_config(CONFIG)
    matcher = Matcher.from_config(cfg)
    grouper = StoryGrouper(cfg)
    items = synthesise(args.items)

    start = time.perf_counter()
    for item in items:
        matcher.match(item)
    match_only = time.perf_counter() - start

    rates: list[float] = []
    grouped = 0
    for _ in range(args.repeat):
        seconds, grouped = run_once(items, matcher, grouper, args.batch)
        rates.append(len(items) / seconds)
    n = len(items)
    print(f"matcher alone:        {n / match_only:9.0f} items/s ({n} items)")
    print(f"match+save+group:     {statistics.median(rates):9.0f} items/s median, "
          f"{max(rates):.0f} best of {args.repeat} ({n} items, {grouped} grouped, "
          f"batches of {args.batch}, SQLite file, one core)")  # fmt: skip
    return 0


def run_once(
    items: list[Item], matcher: Matcher, grouper: StoryGrouper, batch: int
) -> tuple[float, int]:
    """One timed pass into a fresh database: (seconds, reports grouped)."""
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        db = Database.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            stored = store(db, items)
            start = time.perf_counter()
            grouped = 0
            for k in range(0, len(stored), batch):
                chunk = stored[k : k + batch]

                def cycle(session: Session, chunk: list[Item] = chunk) -> int:
                    found = [matcher.match(i) for i in chunk]
                    save_matches(session, found)
                    pairs = [(i, m) for i, m in zip(chunk, found, strict=True) if m.relevant]
                    return len(grouper.assign_many(session, pairs))

                grouped += db.transaction(cycle)
            return time.perf_counter() - start, grouped
        finally:
            db.close()


if __name__ == "__main__":
    sys.exit(main())
