"""Readers' "Not relevant" flags: recorded from a click, read back for admins with the flagged
stories' reports and the evidence stored when each report was matched. Values out, no rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import ChannelRef, FlaggedReport, FlaggedStory, UserRef
from bot.storage.items import item_from_row
from bot.storage.tables import FeedbackRow, ItemRow, MatchRow, StoryItemRow, StoryRow

NOT_RELEVANT = "not_relevant"


def record(
    session: Session,
    story_key: str,
    channel: ChannelRef,
    user: UserRef,
    verdict: str,
    at: datetime,
) -> bool:
    """Store one reader's verdict on a story; False when no story has that key."""
    story_id = session.scalar(select(StoryRow.id).where(StoryRow.key == story_key))
    if story_id is None:
        return False
    session.add(FeedbackRow(story_id=story_id, platform=channel.platform,
                            workspace=channel.workspace, channel=channel.channel,
                            user=user.user, verdict=verdict, at=at))  # fmt: skip
    return True


def flagged_stories(session: Session, since: datetime, limit: int) -> list[FlaggedStory]:
    """Stories flagged "not relevant" since ``since``, the most recently flagged first.

    People are counted once per story however often they clicked (platform, workspace, user).
    """
    rows = session.execute(
        select(FeedbackRow.story_id, FeedbackRow.platform, FeedbackRow.workspace,
               FeedbackRow.user, FeedbackRow.at)
        .where(FeedbackRow.verdict == NOT_RELEVANT, FeedbackRow.at >= since)
    ).all()  # fmt: skip
    people: dict[int, set[tuple[str, str, str]]] = {}
    last: dict[int, datetime] = {}
    for story_id, platform, workspace, user, at in rows:
        people.setdefault(story_id, set()).add((platform, workspace, user))
        last[story_id] = max(at, last.get(story_id, at))
    newest = sorted(last, key=lambda s: (last[s], s), reverse=True)[:limit]
    stories = {r.id: r for r in session.scalars(select(StoryRow).where(StoryRow.id.in_(newest)))}
    reports = _reports(session, newest)
    return [
        FlaggedStory(
            story_id=sid,
            key=stories[sid].key,
            headline=stories[sid].headline,
            flaggers=len(people[sid]),
            last_flagged=last[sid],
            reports=tuple(reports.get(sid, ())),
        )
        for sid in newest
        if sid in stories
    ]


def _reports(session: Session, story_ids: Sequence[int]) -> dict[int, list[FlaggedReport]]:
    stmt = (
        select(StoryItemRow.story_id, ItemRow, MatchRow.score, MatchRow.evidence)
        .join(ItemRow, ItemRow.id == StoryItemRow.item_id)
        .outerjoin(MatchRow, MatchRow.item_id == ItemRow.id)
        .where(StoryItemRow.story_id.in_(story_ids))
        .order_by(ItemRow.first_seen_at, ItemRow.id)
    )
    out: dict[int, list[FlaggedReport]] = {}
    for story_id, row, score, evidence in session.execute(stmt):
        report = FlaggedReport(item_from_row(row), float(score or 0.0), dict(evidence or {}))
        out.setdefault(story_id, []).append(report)
    return out
