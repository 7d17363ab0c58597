"""A match's stored evidence as sentences a person reads (``/news why``, the alert's "Why
this?" button, ``/news admin feedback``): who stood for each side, which topic terms, which
rule decided, and for a miss what was lacking. Never raw JSON: the evidence is the matcher's
record, these sentences are its explanation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RULES = {
    "relevant": "both sides named as subjects, under a topic, scoring at or above the threshold",
    "no-us-actor": "no US actor as a subject",
    "no-india-actor": "no Indian actor as a subject",
    "third-country": "a third country outweighed the pair",
    "no-topic": "under none of the topics",
    "weak": "US–India only in passing",
}

_SIDE = {"us": "US", "india": "Indian"}


def evidence_sentences(evidence: Mapping[str, Any]) -> list[str]:
    """The stored evidence as sentences: who stood for each side, which terms, which rule,
    and for a miss what was lacking."""
    out: list[str] = []
    actors = evidence.get("actors") or {}
    decided = evidence.get("decided_by") or {}
    if decided:
        out.append(
            f"The US side was {decided.get('us', '(none)')}; "
            f"the Indian side was {decided.get('india', '(none)')}."
        )
    for side, name in _SIDE.items():
        named = [a for a in actors.get(side) or [] if a not in str(decided.get(side, ""))]
        if named:
            out.append(f"Also named for the {name} side: {', '.join(named[:6])}.")
    if both := actors.get("both") or []:
        out.append(f"Both sides at once through {', '.join(both)}.")
    terms = evidence.get("topic_terms") or {}
    if terms:
        scores = evidence.get("topic_scores") or {}
        parts = [
            f"{topic} ({', '.join(hits)}; weight {_number(scores.get(topic, 0)):.1f})"
            for topic, hits in terms.items()
        ]
        out.append(f"Topic terms found: {'; '.join(parts)}.")
    if third := actors.get("third") or []:
        out.append(f"Third countries named: {', '.join(third)}.")
    if listed := actors.get("in_lists") or []:
        out.append(f"Named only in a list of countries (not counted): {', '.join(listed)}.")
    rule = evidence.get("rule")
    if rule:
        score, threshold = evidence.get("score"), evidence.get("threshold")
        numbers = (
            f" (score {_number(score):.2f} against threshold {_number(threshold):.2f})"
            if isinstance(score, int | float) and isinstance(threshold, int | float)
            else ""
        )
        out.append(f"Decided by the rule `{rule}`: {RULES.get(str(rule), str(rule))}{numbers}.")
        if lacking := _lacking(str(rule), evidence):
            out.append(f"What was lacking: {lacking}.")
    return out or ["No evidence was stored for this report."]


def _lacking(rule: str, evidence: Mapping[str, Any]) -> str:
    weights = evidence.get("side_weight") or {}
    if rule in ("no-us-actor", "no-india-actor"):
        side = "us" if rule == "no-us-actor" else "india"
        return (
            f"a {_SIDE[side]} person, office, force, firm, platform or shared format acting in "
            f"the report (its weight was {_number(weights.get(side, 0)):.1f})"
        )
    if rule == "third-country":
        third = evidence.get("third_weight") or {}
        country, weight = max(third.items(), key=lambda kv: _number(kv[1]), default=("", 0))
        weaker = min(_number(weights.get("us", 0)), _number(weights.get("india", 0)))
        return (
            f"the pair weighing more than {country or 'the third country'} "
            f"({weaker:.1f} against {_number(weight):.1f})"
        )
    if rule == "no-topic":
        scores = evidence.get("topic_scores") or {}
        if scores:
            topic, best = max(scores.items(), key=lambda kv: _number(kv[1]))
            return f"enough topic terms (closest: {topic} at weight {_number(best):.1f})"
        return "any term of the tracked topics"
    if rule == "weak":
        return "the US–India pair as the report's subject, not a passing mention"
    return ""


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
