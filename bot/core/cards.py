"""Story → StoryCard: a headline chosen from the reports, a short extract, the outlets.

The headline is the report title that best covers what the reports share (the story's
signature), preferring a plain news headline to an explainer or a column. The extract is the
one or two summary sentences that carry most of that shared content, not the first sentence
blindly: a sentence that leans on an earlier one ("He said…") or gives an opinion ranks lower.
Everything is plain text; an extract that must be shortened is cut between words.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Collection, Sequence

from bot.core.models import Item, SourceLink, StoryCard, StoryMaterial, labels
from bot.core.stories import text_tokens
from bot.storage import storyfacts
from bot.storage.db import Tx

logger = logging.getLogger(__name__)

MAX_EXTRACT = 320  # characters; two feed sentences fit, a runaway one is cut between words
_TAG = re.compile(r"<[^>]{0,500}>")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)\s+(?=[\"'(\[]?[A-Z0-9])")
# Titles that label a genre rather than say what happened.
_GENRE = re.compile(
    r"^(explainer|analysis|commentary|opinion|column|editorial|faq|video|watch|live|"
    r"podcast|view|interview)\b",
    re.IGNORECASE,
)
_LEANING = re.compile(
    r"^(he|she|it|they|this|that|these|those|his|her|their|its|the report|the piece|"
    r"the column|the move|the decision|the visit)\b",
    re.IGNORECASE,
)
_OPINION = re.compile(r"\b(argues|argued|opinion|column|commentary|in my view)\b", re.IGNORECASE)


class StoryNotFound(LookupError):
    """No story has that id."""


def plain(text: str) -> str:
    """Feed text as plain text: no tags, no entities, single spaces."""
    return _SPACES.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def load_card(session: Tx, story_id: int) -> StoryCard:
    """Build the card for one story from its stored reports."""
    material = storyfacts.story(session, story_id)
    if material is None:
        raise StoryNotFound(f"story {story_id} does not exist")
    return build_card(material)


def build_card(story: StoryMaterial) -> StoryCard:
    """The card of a story: the headline and the sentences that cover its shared content best,
    and one link per article."""
    items = story.reports
    weights = story.weights
    return StoryCard(
        story_id=story.id,
        story_key=story.key,
        headline=choose_headline([plain(i.title) for i in items], weights) or plain(story.headline),
        extract=choose_extract([plain(i.summary) for i in items], weights),
        topics=story.topics,
        sources=_sources(items),
        first_seen=story.first_seen,
        linked_story_key=story.linked_key,
        published=items[0].published if items else None,
    )


def _coverage(text: str, weights: dict[str, float], full_words: int = 1) -> float:
    """How much of the story's shared content a text carries, per square-root word.

    Texts shorter than ``full_words`` words are discounted: a short aside ("Singh was due
    to meet Austin.") is dense in names but says little about what happened.
    """
    toks = text_tokens(text)
    words = len(text.split())
    if not toks or not words:
        return 0.0
    value = sum(weights.get(t, 0.0) for t in toks) / math.sqrt(words)
    return value * min(1.0, words / full_words)


def choose_headline(titles: list[str], weights: dict[str, float]) -> str:
    """The title covering the shared content best; genre labels and questions rank lower."""
    best: tuple[float, int] | None = None
    for pos, title in enumerate(titles):
        if not title:
            continue
        value = _coverage(title, weights)
        if _GENRE.match(title) or title.endswith("?"):
            value *= 0.5
        if best is None or value > best[0]:
            best = (value, pos)
    return titles[best[1]] if best else ""


def choose_extract(summaries: list[str], weights: dict[str, float]) -> str:
    """One or two sentences that say what happened, never cut inside a word."""
    candidates: list[tuple[float, int, int, list[str]]] = []
    for n, summary in enumerate(summaries):
        sentences = [s.strip() for s in _SENTENCE_END.split(summary) if s.strip()]
        for k, sentence in enumerate(sentences):
            value = _coverage(sentence, weights, full_words=15)
            if _LEANING.match(sentence):
                value *= 0.5
            if _OPINION.search(sentence):
                value *= 0.5
            candidates.append((value, -n, -k, sentences))
    if not candidates:
        return ""
    _value, _summary, neg_k, sentences = max(candidates)
    k = -neg_k
    extract = sentences[k]
    # A short sentence takes the next one along when both fit.
    short = len(extract) < MAX_EXTRACT // 2
    if short and k + 1 < len(sentences) and len(extract) + 1 + len(sentences[k + 1]) <= MAX_EXTRACT:
        extract = f"{extract} {sentences[k + 1]}"
    return shorten(extract, MAX_EXTRACT)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space (an ellipsis marks the cut)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Keep the last word only when the cut falls right after it.
    if space > 0 and not text[limit - 1].isspace():
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def _sources(items: Sequence[Item]) -> tuple[SourceLink, ...]:
    """One link per article, oldest first.

    The same URL twice is one article, and so is one outlet's same headline reached once
    through a Google News link we could not decode and once directly: the direct link is
    listed, in the place of the first.
    """
    out: list[SourceLink] = []
    where: dict[str, int] = {}  # an article's identities → its place in ``out``
    for item in items:
        link = SourceLink(
            outlet=plain(item.source) or "unknown outlet",
            title=plain(item.title),
            url=item.url,
            published=item.published or item.first_seen,
        )
        ids = article_ids(link)
        place = next((where[i] for i in ids if i in where), None)
        if place is None:
            place = len(out)
            out.append(link)
        elif labels.is_via_google(out[place].outlet) and not labels.is_via_google(link.outlet):
            out[place] = link
        else:
            continue
        where.update(dict.fromkeys(ids, place))
    return tuple(out)


def article_ids(link: SourceLink) -> list[str]:
    """What identifies an article among a story's reports: its link, and its outlet and
    headline (which stay when a Google News link gives way to the outlet's own)."""
    ids = [f"url\n{link.url}"] if link.url else []
    if link.title:
        ids.append("title\n" + labels.twin_key(link.outlet, link.title))
    return ids


def follow_ups(
    sources: Sequence[SourceLink], shown: Collection[str] | None, posted: int
) -> list[SourceLink]:
    """The story's reports a post showing the articles ``shown`` does not name yet, by
    identity: a report found later may have been published earlier, so they are not simply
    the end of the list. (``shown`` None: a post from before it was recorded; its first
    ``posted`` reports are taken as shown.)"""
    if shown is None:
        return list(sources[posted:])
    return [s for s in sources if not any(i in shown for i in article_ids(s))]


def shown_ids(sources: Sequence[SourceLink]) -> list[str]:
    """What a post showing ``sources`` records, for ``unshown`` to compare with later."""
    return sorted({i for s in sources for i in article_ids(s)})
