"""`/news admin feedback`: the flagged stories, the evidence that let each through written as
sentences, and the cheapest changes that would have stopped it with their week's cost."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import AppConfig
from bot.core.actors import Knowledge
from bot.core.evidence import evidence_sentences
from bot.core.feedback import MAX_STEPS, Advisor, Costed
from bot.core.models import FlaggedStory, Item, Reply, ReplyField
from bot.core.usage import UsageError

DEFAULT_DAYS = 7
MAX_DAYS = 90
STORIES_SHOWN = 5
PROPOSALS_SHOWN = 3
FIELD_MAX = 1000  # Discord's field value limit is 1024


def parse_days(text: str) -> int:
    """``--days N`` (or ``N``, ``Nd``); the default is a week."""
    words = text.split()
    if words and words[0].lower() == "--days":
        words = words[1:]
        if not words:
            raise UsageError("--days needs a number of days, e.g. `--days 14`")
    if not words:
        return DEFAULT_DAYS
    if len(words) > 1:
        raise UsageError(f"unexpected `{' '.join(words[1:])}`; give one number of days")
    value = words[0].lower().removesuffix("d")
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise UsageError(f"--days must be a whole number from 1 to {MAX_DAYS}, not `{words[0]}`")
    return int(value)


def feedback_reply(
    cfg: AppConfig,
    stories: Sequence[FlaggedStory],
    week: Sequence[Item],
    days: int,
    knowledge: Knowledge | None = None,
) -> Reply:
    """The admin's report on the flagged stories of the last ``days`` days."""
    if not stories:
        return Reply(text=f"No stories were flagged “not relevant” in the last {days} days.")
    advisor = Advisor(cfg, knowledge)
    alerts = advisor.alerts(week)
    flagged = {r.item.id for s in stories for r in s.reports}
    fields: list[ReplyField] = []
    for story in stories[:STORIES_SHOWN]:
        fields.append(_evidence_field(story))
        fields.append(_changes_field(advisor, story, alerts, flagged))
    more = len(stories) - STORIES_SHOWN
    tail = f" Showing the {STORIES_SHOWN} most recent; {more} more." if more > 0 else ""
    return Reply(
        text=f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'} flagged “not relevant” "
        f"in the last {days} days, the most recently flagged first. Each change below was "
        f"checked by re-running the matcher on the story, and its cost is a dry run over the "
        f"{len(alerts)} alerts of the last 7 days.{tail} Nothing was changed: apply one with "
        "the command shown (add `--dry-run` to see it again).",
        fields=tuple(fields),
    )


def _evidence_field(story: FlaggedStory) -> ReplyField:
    people = f"{story.flaggers} {'person' if story.flaggers == 1 else 'people'}"
    name = (
        f"{_clip(story.headline, 150)} ({story.key}) — flagged by {people}, "
        f"last {story.last_flagged:%Y-%m-%d %H:%M} UTC"
    )
    if not story.reports:
        return ReplyField(name, "Its reports are no longer stored.")
    first = story.reports[0]
    lines = [f"Let through ({len(story.reports)} report(s)); the first, “{first.item.title}”:"]
    lines += evidence_sentences(first.evidence)
    return ReplyField(name, _clip("\n".join(lines), FIELD_MAX))


def _changes_field(
    advisor: Advisor, story: FlaggedStory, alerts: Sequence[Item], flagged: set[int]
) -> ReplyField:
    name = f"What would have stopped {story.key}"
    items = advisor.still_relevant(story)
    if not items:
        return ReplyField(name, "The current config already lets none of its reports through.")
    costed = advisor.ranked(items, alerts, flagged)
    if not costed:
        return ReplyField(
            name,
            f"No relevance threshold (its score is perfect) and no {MAX_STEPS} topic-term "
            "removals stop every report; look at the actors in the evidence.",
        )
    lines = [_proposal_line(n, c) for n, c in enumerate(costed[:PROPOSALS_SHOWN])]
    return ReplyField(name, _clip("\n".join(lines), FIELD_MAX))


def _proposal_line(n: int, costed: Costed) -> str:
    cost = costed.cost
    lead = "Smallest: " if n == 0 else ""
    also = f" (and {cost.also_flagged} other flagged report(s))" if cost.also_flagged else ""
    if cost.removed:
        lost = "; ".join(f"“{_clip(t, 60)}”" for t in cost.lost)
        price = f"would also remove {cost.removed} other alert(s) of the last 7 days{also}: {lost}"
    else:
        price = f"would remove no other alert of the last 7 days{also}"
    apply = " then ".join(f"`{c}`" for c in costed.proposal.commands)
    return f"• {lead}{costed.proposal.change}: {price}. Apply: {apply}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
