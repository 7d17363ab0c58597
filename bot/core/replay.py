"""The dry run of a topic or threshold edit: the last week's items matched under both configs,
what would have been alerted and what not."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.models import ReplyField
from bot.storage.items import item_from_row
from bot.storage.tables import ItemRow, StoryItemRow


@dataclass(frozen=True)
class Replay:
    """What an edit would have done over the replayed items."""

    items: int
    per_day: tuple[tuple[str, int, int], ...]  # (date, stories before, stories after)
    added: tuple[str, ...]
    dropped: tuple[str, ...]

    def fields(self) -> tuple[ReplyField, ...]:
        days = max(len(self.per_day), 1)
        before = sum(b for _, b, _ in self.per_day) / days
        after = sum(a for _, _, a in self.per_day) / days
        daily = "\n".join(f"{d}: {b} → {a}" for d, b, a in self.per_day) or "(no items stored)"
        return (
            ReplyField("stories per day", f"{before:.1f} → {after:.1f} on average\n{daily}"),
            ReplyField(f"would add {len(self.added)}", "\n".join(self.added[:5]) or "none"),
            ReplyField(f"would drop {len(self.dropped)}", "\n".join(self.dropped[:5]) or "none"),
        )


def replay(session: Session, old: AppConfig, new: AppConfig, since: datetime) -> Replay:
    """Match the stored items since ``since`` under both configs.

    Stories per day counts an item's existing story once (reports already grouped), and an
    item not in any story as a story of its own: the number of posts the channel would see.
    """
    from bot.core.matching import Matcher

    before, after = Matcher.from_config(old), Matcher.from_config(new)
    rows = session.scalars(
        select(ItemRow).where(ItemRow.first_seen_at >= since).order_by(ItemRow.first_seen_at)
    ).all()
    pairs = session.execute(
        select(StoryItemRow.item_id, StoryItemRow.story_id).where(
            StoryItemRow.item_id.in_([r.id for r in rows])
        )
    )
    story_of: dict[int, int] = {item_id: story_id for item_id, story_id in pairs}
    days_before: dict[str, set[object]] = defaultdict(set)
    days_after: dict[str, set[object]] = defaultdict(set)
    added: list[str] = []
    dropped: list[str] = []
    for row in rows:
        item = item_from_row(row)
        day = row.first_seen_at.strftime("%Y-%m-%d")
        story: object = story_of.get(row.id, ("item", row.id))
        was, now = before.match(item).relevant, after.match(item).relevant
        days_before.setdefault(day, set())
        days_after.setdefault(day, set())
        if was:
            days_before[day].add(story)
        if now:
            days_after[day].add(story)
        if now and not was:
            added.append(f"+ {row.title[:120]} ({row.source})")
        elif was and not now:
            dropped.append(f"− {row.title[:120]} ({row.source})")
    per_day = tuple(
        (day, len(days_before[day]), len(days_after[day])) for day in sorted(days_before)
    )
    return Replay(len(rows), per_day, tuple(added), tuple(dropped))
