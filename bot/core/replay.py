"""The dry run of a topic or threshold edit: the last week's items matched under both configs,
what would have been alerted and what not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import AppConfig
from bot.core.models import Item, ReplyField


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


def replay(
    items: Sequence[Item], story_of: Mapping[int, int], old: AppConfig, new: AppConfig
) -> Replay:
    """Match ``items`` (in the order they were seen) under both configs.

    Stories per day counts an item's existing story once (``story_of``: reports already
    grouped), and an item not in any story as a story of its own: the posts a channel would see.
    """
    from bot.core.matching import Matcher

    before, after = Matcher.from_config(old), Matcher.from_config(new)
    days_before: dict[str, set[object]] = defaultdict(set)
    days_after: dict[str, set[object]] = defaultdict(set)
    added: list[str] = []
    dropped: list[str] = []
    for item in items:
        day = item.first_seen.strftime("%Y-%m-%d")
        story: object = story_of.get(item.id, ("item", item.id))
        was, now = before.match(item).relevant, after.match(item).relevant
        days_before.setdefault(day, set())
        days_after.setdefault(day, set())
        if was:
            days_before[day].add(story)
        if now:
            days_after[day].add(story)
        if now and not was:
            added.append(f"+ {item.title[:120]} ({item.source})")
        elif was and not now:
            dropped.append(f"− {item.title[:120]} ({item.source})")
    per_day = tuple(
        (day, len(days_before[day]), len(days_after[day])) for day in sorted(days_before)
    )
    return Replay(len(items), per_day, tuple(added), tuple(dropped))
