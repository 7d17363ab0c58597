"""Slack rendering: story cards, digests and command replies as Block Kit, with feed text escaped.

Everything that came from a feed or a user is untrusted. Slack parses ``&``, ``<`` and ``>`` as
control characters in every text field (``<!here>``, ``<@U123>``, ``<url|label>``), so each of
them is entity-escaped wherever such text lands, plain_text fields included; Slack decodes the
three entities for display. The bare words ``@here``, ``@channel`` and ``@everyone`` only ping
when a message is sent with ``link_names``; we never send it, and still break those words with a
word joiner so no future flag or client can turn feed text into a broadcast.

Slack's limits (as of 2026): 50 blocks per message, header text 150 characters, section text
3000, context elements 10, button text 75, top-level ``text`` ~40000 (we keep it short: it is
the notification and screen-reader fallback).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot.core.models import Reply, SourceLink, StoryCard

Block = dict[str, Any]

WHY_ACTION = "newsbot_why"
NOT_RELEVANT_ACTION = "newsbot_not_relevant"
METADATA_EVENT = "newsbot_story"

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
EXTRACT_MAX = 600
LINKS_MAX = 10

_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_SPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Make untrusted text inert in any Slack text field: entities for & < >, broken broadcasts."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut to ``limit`` characters with an ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(text: str, limit: int) -> str:
    """Clip first, then escape, so an entity is never cut in half; the result may exceed limit
    by the entities' extra characters, which Slack counts as one character each."""
    return escape(clip(text, limit))


def link(url: str | None, label: str) -> str:
    """A mrkdwn link whose label is escaped and whose URL cannot close the ``<…>`` early."""
    shown = safe(label, 200) or "link"
    if not url or not url.lower().startswith(("http://", "https://")):
        return shown
    # | > < and spaces end or split Slack's link syntax; percent-encode them.
    href = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    href = href.replace("&", "&amp;")
    return f"<{href}|{shown}>"


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": safe(text, limit) or "-", "emoji": False}


def mrkdwn(text: str) -> Block:
    """A mrkdwn text object; the caller has escaped every untrusted part already."""
    return {"type": "mrkdwn", "text": text[:SECTION_MAX] or "-"}


def outlets_line(card: StoryCard) -> str:
    """ "Reported by A" or "Reported by A · also reported by B, C" with each outlet a link."""
    sources = card.sources[:LINKS_MAX]
    if not sources:
        return "No outlet links."
    first = link(sources[0].url, sources[0].outlet or sources[0].title)
    line = f"Reported by {first}"
    if len(sources) > 1:
        others = ", ".join(link(s.url, s.outlet or s.title) for s in sources[1:])
        line += f" · also reported by {others}"
    hidden = len(card.sources) - len(sources)
    if hidden > 0:
        line += f" and {hidden} more"
    return line


def context_line(card: StoryCard) -> str:
    topics = ", ".join(card.topics) or "no topic"
    stamp = int(card.first_seen.timestamp())
    fallback = f"{card.first_seen:%Y-%m-%d %H:%M} UTC"
    # Slack shows the date in each reader's own time zone; the fallback is UTC.
    when = f"<!date^{stamp}^first seen {{date_short_pretty}} {{time}}|first seen {fallback}>"
    parts = [f"Topics: {escape(topics)}", when, f"story `{escape(card.story_key)}`"]
    if card.linked_story_key:
        parts.append(f"follow-up to `{escape(card.linked_story_key)}`")
    return " · ".join(parts)


def card_blocks(card: StoryCard, *, buttons: bool = True) -> list[Block]:
    """One story as Block Kit: header, extract, outlets, context, and the two feedback buttons."""
    blocks: list[Block] = [{"type": "header", "text": plain(card.headline, HEADER_MAX)}]
    if card.extract.strip():
        # plain_text: Slack applies no mrkdwn to it, so stray * _ ~ ` in feed text stay literal.
        blocks.append({"type": "section", "text": plain(card.extract, EXTRACT_MAX)})
    blocks.append({"type": "section", "text": mrkdwn(outlets_line(card))})
    blocks.append({"type": "context", "elements": [mrkdwn(context_line(card))]})
    if buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"story:{card.story_key}"[:255],
                "elements": [
                    _button("Why this?", WHY_ACTION, card.story_key),
                    _button("Not relevant", NOT_RELEVANT_ACTION, card.story_key),
                ],
            }
        )
    return blocks


def _button(label: str, action_id: str, value: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": False},
        "action_id": action_id,
        "value": value[:2000],
    }


def card_text(card: StoryCard) -> str:
    """The notification / fallback text of an alert."""
    outlets = ", ".join(s.outlet for s in card.sources[:3] if s.outlet)
    suffix = f" ({escape(clip(outlets, 200))})" if outlets else ""
    return safe(card.headline, 300) + suffix


def story_metadata(card: StoryCard, delivery_id: int | None) -> dict[str, Any]:
    """Message metadata: lets a retry find its own earlier post and ties a message to its story."""
    payload: dict[str, Any] = {"story_id": card.story_id, "story_key": card.story_key}
    if delivery_id is not None:
        payload["delivery_id"] = delivery_id
    return {"event_type": METADATA_EVENT, "event_payload": payload}


def source_key(source: SourceLink) -> str:
    """What identifies a report in its story's thread, so a retried reply is recognised."""
    return (source.url or f"{source.outlet}|{source.title}")[:500]


def thread_reply_metadata(source: SourceLink) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"source": source_key(source)}}


def digest_metadata(delivery_id: int, story_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"delivery_id": delivery_id, "story_ids": list(story_ids)[:100]},
    }


def digest_blocks(title: str, cards: Sequence[StoryCard]) -> list[Block]:
    """Several stories in one message: a header, then per story its linked headline and outlets."""
    blocks: list[Block] = [{"type": "header", "text": plain(title, HEADER_MAX)}]
    per_card = 3
    room = (MAX_BLOCKS - 2) // per_card
    for card in cards[:room]:
        headline = link(card.url, card.headline)
        blocks.append({"type": "section", "text": mrkdwn(f"*{headline}*\n{outlets_line(card)}")})
        blocks.append({"type": "context", "elements": [mrkdwn(context_line(card))]})
        blocks.append({"type": "divider"})
    if len(cards) > room:
        more = f"…and {len(cards) - room} more stories: `/news stories` lists them."
        blocks.append({"type": "context", "elements": [mrkdwn(more)]})
    elif cards:
        blocks.pop()  # no divider after the last story
    else:
        blocks.append({"type": "section", "text": mrkdwn("Nothing new in this period.")})
    return blocks


def digest_text(title: str, cards: Sequence[StoryCard]) -> str:
    return f"{safe(title, 150)}: {len(cards)} stor{'y' if len(cards) == 1 else 'ies'}"


def thread_reply_blocks(source: SourceLink) -> list[Block]:
    line = f"Also reported by *{safe(source.outlet or 'another outlet', 200)}*: "
    line += link(source.url, source.title)
    return [{"type": "section", "text": mrkdwn(line)}]


def thread_reply_text(source: SourceLink) -> str:
    return f"Also reported by {safe(source.outlet, 200)}: {safe(source.title, 300)}"


def reply_blocks(reply: Reply) -> list[Block]:
    """A command's answer: its text, then fields, links and cards, within Slack's block limit.

    The core's reply text can quote feed text and user input, so it is escaped like feed text.
    """
    blocks: list[Block] = []
    if reply.text.strip():
        for chunk in _chunks(escape(reply.text), SECTION_MAX):
            blocks.append({"type": "section", "text": mrkdwn(chunk)})
    fields = [mrkdwn(f"*{safe(f.name, 200)}*\n{safe(f.value, 1800)}") for f in reply.fields]
    for i in range(0, len(fields), 10):  # a section holds at most 10 fields
        blocks.append({"type": "section", "fields": fields[i : i + 10]})
    if reply.links:
        lines = [f"• {link(s.url, s.title)}" + (f" ({safe(s.outlet, 100)})" if s.outlet else "")
                 for s in reply.links[:20]]  # fmt: skip
        blocks.append({"type": "section", "text": mrkdwn("\n".join(lines))})
    for card in reply.cards:
        if len(blocks) + 6 > MAX_BLOCKS:
            blocks.append({"type": "context", "elements": [mrkdwn("…more not shown.")]})
            break
        blocks.append({"type": "divider"})
        blocks.extend(card_blocks(card))
    return blocks[:MAX_BLOCKS]


def reply_text(reply: Reply) -> str:
    return safe(reply.text, 2000) or "newsbot"


def _chunks(text: str, size: int) -> list[str]:
    """Split on line breaks where possible; never inside an ``&…;`` entity."""
    chunks: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        if cut <= 0:
            cut = text.rfind(" ", 0, size)
        if cut <= 0:
            cut = size
            amp = text.rfind("&", cut - 6, cut)
            if amp != -1 and ";" not in text[amp:cut]:
                cut = amp
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return [c for c in chunks if c]
