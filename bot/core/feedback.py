"""What readers' "Not relevant" flags teach: for a flagged story, the smallest config change that
would have stopped it, and what that change would cost over the last week's alerts.

Pure over values: the stories, the week's items and the live config come from storage. Every
proposal is checked by re-running the real matcher with the changed config on the story's
reports, and costed by re-running it on the week's alerts: nothing here is estimated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import AppConfig
from bot.core.actors import Knowledge, load_knowledge
from bot.core.gazetteer import phrase_tokens
from bot.core.matching import Matcher
from bot.core.models import FlaggedStory, Item

LOST_SHOWN = 3
MAX_STEPS = 6  # term removals combined at most, for a story no single change stops
SEARCH_WIDTH = 8  # the terms hitting the most reports tried at each step (a matcher each)


@dataclass(frozen=True)
class Proposal:
    """A config change that makes every report of a story not relevant, and how to apply it."""

    change: str
    commands: tuple[str, ...]  # the audited admin commands that apply it
    config: AppConfig


@dataclass(frozen=True)
class Cost:
    """What a proposal would also have removed from the week's alerts."""

    removed: int  # alerts besides the story's own reports and the other flagged ones
    also_flagged: int  # reports of other flagged stories it removes too
    lost: tuple[str, ...]  # a few headlines of the removed alerts


@dataclass(frozen=True)
class Costed:
    proposal: Proposal
    cost: Cost


class Advisor:
    """Proposals and their costs for one live config; the matchers it builds are reused."""

    def __init__(self, cfg: AppConfig, knowledge: Knowledge | None = None) -> None:
        self.cfg = cfg
        # Loaded once: every proposal builds a matcher of its own.
        self.knowledge = knowledge if knowledge is not None else load_knowledge()
        self.matcher = Matcher.from_config(cfg, self.knowledge)
        # A proposal's matcher is built once (~50 ms), for its check and for its cost; the
        # config is kept beside it so its id is never reused while cached.
        self._built: dict[int, tuple[AppConfig, Matcher]] = {id(cfg): (cfg, self.matcher)}

    def still_relevant(self, story: FlaggedStory) -> list[Item]:
        """The story's reports the current config still lets through."""
        return [r.item for r in story.reports if self.matcher.match(r.item).relevant]

    def proposals(self, items: Sequence[Item]) -> list[Proposal]:
        """Changes that stop every one of ``items``, each checked with the real matcher.

        One term removal or the threshold when one suffices; otherwise the fewest removals
        found by taking, each step, the one that stops the most reports still let through.
        """
        if not items:
            return []
        # A term stops every report only if it hit every report: the commonest come first.
        common = self._hit_terms(self.cfg, items)[:SEARCH_WIDTH]
        singles = [self._removal(self.cfg, {t: ts}) for t, ts in common]
        singles = [p for p in [*singles, *self._threshold(items)] if self._stops(p.config, items)]
        if singles:
            return singles
        combined = self._combined(items)
        return [combined] if combined is not None else []

    def alerts(self, items: Sequence[Item]) -> list[Item]:
        """The week's items that the current config alerts on."""
        return [i for i in items if i.alertable and self.matcher.match(i).relevant]

    def cost(
        self, proposal: Proposal, alerts: Sequence[Item], own: set[int], flagged: set[int]
    ) -> Cost:
        """Dry run of ``proposal`` over ``alerts``: which of them it would no longer post."""
        after = self._matcher(proposal.config)
        removed = [i for i in alerts if i.id not in own and not after.match(i).relevant]
        others = [i for i in removed if i.id not in flagged]
        lost = tuple(i.title for i in others[:LOST_SHOWN])
        return Cost(len(others), len(removed) - len(others), lost)

    def ranked(
        self, items: Sequence[Item], alerts: Sequence[Item], flagged: set[int]
    ) -> list[Costed]:
        """The proposals for a story's reports, the cheapest first."""
        own = {i.id for i in items}
        costed = [Costed(p, self.cost(p, alerts, own, flagged)) for p in self.proposals(items)]
        return sorted(costed, key=lambda c: (c.cost.removed, -c.cost.also_flagged))

    def _matcher(self, cfg: AppConfig) -> Matcher:
        built = self._built.get(id(cfg))
        if built is None:
            built = self._built[id(cfg)] = (cfg, self.matcher.retuned(cfg))
        return built[1]

    # ---------------------------------------------------------------- candidates

    def _combined(self, items: Sequence[Item]) -> Proposal | None:
        cfg, left = self.cfg, list(items)
        removed: dict[str, list[str]] = {}
        progress = _progress(self.matcher, left)
        for _ in range(MAX_STEPS):
            best: tuple[tuple[int, float], str, list[str], AppConfig, Matcher] | None = None
            for topic_id, terms in self._hit_terms(cfg, left)[:SEARCH_WIDTH]:
                edited = _without(cfg, topic_id, terms)
                # Not cached: a search step's matchers are many and used once.
                matcher = self.matcher.retuned(edited)
                after = _progress(matcher, left)
                if best is None or after < best[0]:
                    best = (after, topic_id, terms, edited, matcher)
            if best is None or best[0] >= progress:
                return None  # no removal takes any report closer to being stopped
            progress, topic_id, terms, cfg, matcher = best
            removed.setdefault(topic_id, []).extend(terms)
            left = [i for i in left if matcher.match(i).relevant]
            if not left:
                return self._removal(self.cfg, removed)
        return None

    def _hit_terms(self, cfg: AppConfig, items: Sequence[Item]) -> list[tuple[str, list[str]]]:
        """Each topic term that hit one of ``items`` (with its other spellings in that topic),
        the terms hitting the most reports first."""
        matcher = self._matcher(cfg)
        reports: dict[tuple[str, tuple[str, ...]], int] = {}
        for item in items:
            hits: dict[str, list[str]] = dict(matcher.match(item).evidence.get("topic_terms", {}))  # type: ignore[call-overload]
            found = {(topic_id, _words(p)) for topic_id, phrases in hits.items() for p in phrases}
            for key in found:
                if key[1]:
                    reports[key] = reports.get(key, 0) + 1
        out: list[tuple[int, str, list[str]]] = []
        for (topic_id, words), count in reports.items():
            topic = next((t for t in cfg.topics if t.id == topic_id), None)
            terms = [t for t in topic.terms if _words(t) == words] if topic is not None else []
            if terms:
                out.append((count, topic_id, terms))
        out.sort(key=lambda c: -c[0])  # stable: the first found first among equals
        return [(topic_id, terms) for _, topic_id, terms in out]

    def _removal(self, cfg: AppConfig, removed: dict[str, list[str]]) -> Proposal:
        edited = cfg
        for topic_id, terms in removed.items():
            edited = _without(edited, topic_id, terms)
        parts = [
            f"{', '.join(f'“{t}”' for t in terms)} from `{topic_id}`"
            for topic_id, terms in removed.items()
        ]
        many = len(removed) > 1 or len(next(iter(removed.values()))) > 1
        return Proposal(
            change=f"remove the term{'s' if many else ''} {'; '.join(parts)}",
            commands=tuple(
                f"/news admin topics edit {topic_id} terms remove {', '.join(terms)}"
                for topic_id, terms in removed.items()
            ),
            config=edited,
        )

    def _threshold(self, items: Sequence[Item]) -> list[Proposal]:
        """The relevance threshold just above the best score among the reports."""
        top = max(self.matcher.match(i).score for i in items)
        value = round(math.floor(top * 100 + 1e-9) / 100 + 0.01, 2)
        if value > 1.0:
            return []  # a perfect score: no threshold stops it
        thresholds = self.cfg.thresholds.model_copy(update={"relevance": value})
        return [
            Proposal(
                change=f"raise the relevance threshold {self.cfg.thresholds.relevance} → {value} "
                f"(its best score is {top:.2f})",
                commands=(f"/news admin threshold relevance {value}",),
                config=self.cfg.model_copy(update={"thresholds": thresholds}),
            )
        ]

    def _stops(self, cfg: AppConfig, items: Sequence[Item]) -> bool:
        matcher = self._matcher(cfg)
        return not any(matcher.match(i).relevant for i in items)


def _progress(matcher: Matcher, items: Sequence[Item]) -> tuple[int, float]:
    """How far ``items`` are from being stopped: reports let through, then their topic weight."""
    matches = [m for m in (matcher.match(i) for i in items) if m.relevant]
    weight = sum(float(w) for m in matches for w in _scores(m.evidence))
    return len(matches), weight


def _without(cfg: AppConfig, topic_id: str, terms: list[str]) -> AppConfig:
    topics = [
        t.model_copy(update={"terms": [x for x in t.terms if x not in terms]})
        if t.id == topic_id
        else t
        for t in cfg.topics
    ]
    return cfg.model_copy(update={"topics": topics})


def _words(phrase: str) -> tuple[str, ...]:
    """A phrase as the matcher compares it, case folded ("(officials of both sides)": none)."""
    if phrase.startswith("("):
        return ()
    return tuple(t.lower() for t in phrase_tokens(phrase))


def _scores(evidence: dict[str, object]) -> list[float]:
    scores = evidence.get("topic_scores")
    return [float(w) for w in scores.values()] if isinstance(scores, dict) else []
