"""How long `/news admin feedback` and the story-threshold dry run take on a stored week.

``python -m bench.feedback [ITEMS.jsonl] [--copies N] [--flags N] [--runs N]``

The labelled items (copies of them, each copy its own stories) are spread over the last six
days in publication order, matched and grouped by the real matcher and grouper into a throw-away
SQLite database, the newest ``--flags`` stories flagged "not relevant", and the two admin
commands run through the command path; min / median / max seconds over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import AppConfig, load_config
from bot.core.commands import Commands
from bot.core.matching import Matcher
from bot.core.models import ChannelRef, Command, UserRef
from bot.core.stories import StoryGrouper
from bot.evaluation import EvalItem, read_items
from bot.storage.configstore import seed
from bot.storage.db import Database
from bot.storage.items import item_from_row
from bot.storage.stories import save_match
from bot.storage.tables import ItemRow

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"
CONFIG = ROOT / "config" / "newsbot.yaml"
CHANNEL = ChannelRef("console", "local", "bench", "bench")
ADMIN = UserRef("console", "local", "bench-admin", "admin", is_admin=True)


def store_week(s: Session, cfg: AppConfig, items: list[EvalItem], now: datetime) -> list[str]:
    """The items as a week of stored reports; the story keys, newest first."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    step = timedelta(days=6) / max(len(items), 1)
    keys: list[str] = []
    for n, ev in enumerate(items):
        at = now - timedelta(days=6) + step * n
        row = ItemRow(
            key=f"bench-{n}",
            url=None,
            title=ev.title,
            summary=ev.summary,
            source=ev.source,
            published_at=at,
            first_seen_at=at,
            alertable=True,
        )
        s.add(row)
        s.flush()
        item = item_from_row(row)
        match = matcher.match(item)
        save_match(s, match, now=at)
        if match.relevant:
            key = grouper.assign(s, item, match).story_key
            keys = [key, *[k for k in keys if k != key]]
    return keys


async def measure(copies: int, flags: int, runs: int) -> None:
    cfg = load_config(CONFIG)
    labelled = read_items(ITEMS.read_text("utf-8").splitlines(), str(ITEMS)).items
    ordered = sorted(labelled, key=lambda i: i.published) * copies
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        db = Database.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            db.transaction(lambda s: seed(s, cfg, now=now - timedelta(days=30)))
            keys = db.transaction(lambda s: store_week(s, cfg, ordered, now))
            commands = Commands(db, cfg)
            for n, key in enumerate(keys[:flags]):
                await commands.feedback(key, UserRef("console", "local", f"reader-{n}"), CHANNEL)
            print(f"{len(ordered)} items stored, {len(keys)} stories, {flags} flagged")
            for text in ("admin feedback", "admin threshold story 0.5 --dry-run"):
                took = []
                for _ in range(runs):
                    start = time.perf_counter()
                    reply = await commands.handle(Command(text, ADMIN, CHANNEL))
                    took.append(time.perf_counter() - start)
                    assert reply.ok, reply.text
                print(f"/news {text}: min {min(took):.2f} s, median "
                      f"{statistics.median(took):.2f} s, max {max(took):.2f} s")  # fmt: skip
        finally:
            db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--flags", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.copies, args.flags, args.runs))


if __name__ == "__main__":
    main()
