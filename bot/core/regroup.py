"""The story-threshold dry run: regroup a week's relevant reports under the current and the
proposed config with the real grouper, each on a scratch database, and say what would move.

The live stories are never read or written: both runs start empty and see the same reports in
the same (publication) order, so the difference is the edit's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from bot.config import AppConfig
from bot.core.actors import Knowledge
from bot.core.matching import Matcher
from bot.core.models import Item, ReplyField
from bot.core.stories import StoryGrouper, item_time
from bot.storage.db import Tx

Scratch = Callable[[], AbstractContextManager[Tx]]
MOVES_SHOWN = 8


@dataclass(frozen=True)
class Regrouping:
    """Stories before and after an edit, over the same reports."""

    reports: int
    before: int
    after: int
    moved: tuple[str, ...]  # one line per report whose story companions change

    def fields(self) -> tuple[ReplyField, ...]:
        shown = "\n".join(self.moved[:MOVES_SHOWN]) or "none"
        more = len(self.moved) - MOVES_SHOWN
        if more > 0:
            shown += f"\n… and {more} more"
        return (
            ReplyField(
                "stories",
                f"{self.before} → {self.after} from {self.reports} relevant reports",
            ),
            ReplyField(f"reports that would move: {len(self.moved)}", shown),
        )


def regroup(
    items: Sequence[Item],
    old: AppConfig,
    new: AppConfig,
    scratch: Scratch,
    knowledge: Knowledge | None = None,
) -> Regrouping:
    """Group ``items`` (those relevant under each config) once per config and compare."""
    before = _group(items, old, scratch, knowledge)
    after = _group(items, new, scratch, knowledge)
    titles = {item.id: item.title for item in items}
    moved = [
        _move(titles, before, after, item_id)
        for item_id in sorted(set(before) | set(after), key=lambda i: (before.get(i, ()), i))
        if before.get(item_id) != after.get(item_id)
    ]
    return Regrouping(
        reports=len(set(before) | set(after)),
        before=len(set(before.values())),
        after=len(set(after.values())),
        moved=tuple(moved),
    )


def _group(
    items: Sequence[Item], cfg: AppConfig, scratch: Scratch, knowledge: Knowledge | None
) -> dict[int, tuple[int, ...]]:
    """Each relevant report's story, as the ids of all its reports (comparable across runs)."""
    matcher = Matcher.from_config(cfg, knowledge)
    pairs = [(item, matcher.match(item)) for item in items]
    pairs = [(item, m) for item, m in pairs if m.relevant]
    # The pipeline groups in publication order; the id keeps equal times stable.
    pairs.sort(key=lambda p: (item_time(p[0]), p[0].id))
    with scratch() as session:
        assignments = StoryGrouper(cfg).assign_many(session, pairs)
    members: dict[int, list[int]] = {}
    for (item, _), assignment in zip(pairs, assignments, strict=True):
        members.setdefault(assignment.story_id, []).append(item.id)
    return {i: tuple(sorted(ids)) for ids in members.values() for i in ids}


def _move(
    titles: dict[int, str],
    before: dict[int, tuple[int, ...]],
    after: dict[int, tuple[int, ...]],
    item_id: int,
) -> str:
    return (
        f"{_quote(titles[item_id])}: {_company(titles, item_id, before.get(item_id))} → "
        f"{_company(titles, item_id, after.get(item_id))}"
    )


def _company(titles: dict[int, str], item_id: int, story: tuple[int, ...] | None) -> str:
    if story is None:
        return "not relevant"
    others = [i for i in story if i != item_id]
    if not others:
        return "a story of its own"
    more = f" and {len(others) - 1} more" if len(others) > 1 else ""
    return f"with {_quote(titles[others[0]])}{more}"


def _quote(title: str, limit: int = 70) -> str:
    text = title if len(title) <= limit else title[: limit - 1] + "…"
    return f"“{text}”"
