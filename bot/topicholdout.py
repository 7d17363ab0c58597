"""Leave-one-topic-out run of the actor knowledge (``newsbot eval ITEMS --leave-one-topic-out``).

What "the actor data must not depend on the held topic's items" means here: for each topic T,
the matcher is built without every part of the actor data that is specific to T, namely the
knowledge's bilateral formats whose ``topic:`` is T (bot/data/actors.yaml) and the config
topic's own ``actors:`` (its bilateral anchors). What stays was written per class, not per
topic: countries, institutions, forces, offices and their holders, firms, platforms, and the
other topics' formats. T's ``terms:`` stay too: they are the topic's definition, not actor
data, and without them T could not be predicted at all.

The items labelled T and every labelled negative are then matched with that matcher. Relevance
recall on T's items says whether both sides are still recognised without T's own knowledge;
T's topic F1 whether the topic survives; precision whether anything else moved. The pooled line
scores every (item, held topic) pair once. Matching only: stories are not grouped here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.config import AppConfig
from bot.core.actors import load_knowledge
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.evaluation import EvalItem, Prediction, score


def held_matcher(cfg: AppConfig, topic: str) -> Matcher:
    """The live matcher without the actor data specific to ``topic``."""
    topics = [t.model_copy(update={"actors": []}) if t.id == topic else t for t in cfg.topics]
    return Matcher.from_config(cfg.model_copy(update={"topics": topics}),
                               load_knowledge().without_topic(topic))  # fmt: skip


def predict(items: list[EvalItem], matcher: Matcher, tag: str) -> list[Prediction]:
    out: list[Prediction] = []
    for ev in items:
        item = Item(id=0, key=ev.id, feed_id=None, title=ev.title, summary=ev.summary,
                    url=ev.url, source=ev.source, published=ev.published,
                    first_seen=ev.published)  # fmt: skip
        m = matcher.match(item)
        out.append(Prediction(f"{ev.id}@{tag}", m.relevant, m.topics, None, m.score, m.why))
    return out


def figures(res: dict[str, Any], topic: str | None) -> str:
    r, t = res["relevance"], res["topics"]
    line = (f"relevance P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f}  "
            f"topic micro-F1={t['micro_f1']:.3f}")  # fmt: skip
    if topic is not None:
        own = t["per_topic"][topic]
        line += f"  {topic} P={own['precision']:.3f} R={own['recall']:.3f} F1={own['f1']:.3f}"
    return line


def run(items: list[EvalItem], cfg: AppConfig) -> None:
    negatives = [it for it in items if it.gold_relevant is False]
    pooled_items: list[EvalItem] = []
    pooled_preds: list[Prediction] = []
    full = Matcher.from_config(cfg)
    for topic in (t.id for t in cfg.topics):
        own = [it for it in items if it.gold_relevant and topic in it.gold_topics]
        if not own:
            continue
        scored = [replace(it, id=f"{it.id}@{topic}") for it in own + negatives]
        held = predict(own + negatives, held_matcher(cfg, topic), topic)
        kept = predict(own + negatives, full, topic)
        print(f"{topic} ({len(own)} items) held out: {figures(score(scored, held), topic)}")
        print(f"{' ' * len(topic)}  with its own data: {figures(score(scored, kept), topic)}")
        pooled_items += scored
        pooled_preds += held
    print(f"leave-one-topic-out pooled ({len(pooled_items)} item × topic pairs): "
          f"{figures(score(pooled_items, pooled_preds), None)}")  # fmt: skip
