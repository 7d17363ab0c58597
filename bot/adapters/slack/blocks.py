"""Slack rendering: story cards, digests and command replies as Block Kit, with feed text escaped.

Everything that came from a feed or a user is untrusted. Slack parses ``&``, ``<`` and ``>`` as
control characters in every text field (``<!here>``, ``<@U123>``, ``<url|label>``), so each of
them is entity-escaped wherever such text lands, plain_text fields included; Slack decodes the
three entities for display. The bare words ``@here``, ``@channel`` and ``@everyone`` only ping
when a message is sent with ``link_names``; we never send it, and still break those words with a
word joiner so no future flag or client can turn feed text into a broadcast.

mrkdwn has no backslash escape, so each of ``* _ ~ ` `` from untrusted text is fenced by word
joiners (U+2060, invisible): Slack pairs a formatting character only at a word boundary, and a
word joiner next to it is neither space nor punctuation, so ``*bold*`` stays literal. A ``>``
that opens a line (a block quote) gets one in front. Every mrkdwn object is sent
``verbatim``, so Slack does not turn bare URLs, domains or #channel names into links, and the
``://`` of a URL in untrusted text is split by a word joiner so no client (notifications, the
plain-text fallback) links it either: only the ``<url|label>`` links built here are clickable.
Text goes through ``untrusted_text`` first (bidi, controls, zero-width), line by line.

Slack's limits (as of 2026): 50 blocks per message, header text 150 characters, section text
3000, context elements 10, button text 75, top-level ``text`` ~40000 (we keep it short: it is
the notification and screen-reader fallback).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.core.models import Reply, SourceLink, StoryCard
from bot.core.textsafety import untrusted_text

Block = dict[str, Any]

WHY_ACTION = "newsbot_why"
NOT_RELEVANT_ACTION = "newsbot_not_relevant"
METADATA_EVENT = "newsbot_story"

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
EXTRACT_MAX = 600
LINKS_MAX = 10
PUBLISHED_UNKNOWN = "publication time unknown"

_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_SPACE = re.compile(r"\s+")


_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_FORMATTING = re.compile(r"[*_~`]")
_EMPHASIS = re.compile(r"[*_~]")
_SCHEME = re.compile(r"(?<=[A-Za-z0-9+.-]):(?=//)")
_QUOTE_START = re.compile(r"^(?=&gt;)", re.MULTILINE)
_WEB_URL = re.compile(r"https?://[^\s<>\"'`|]+[^\s<>\"'`|.,;:!?)\]]")


def _clean(text: str) -> str:
    return "\n".join(untrusted_text(line) for line in text.split("\n"))


def escape_plain(text: str, *, cleaned: bool = False) -> str:
    """Make untrusted text inert in a plain_text object: no ping, no control syntax, no link."""
    text = text if cleaned else _clean(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)
    return _SCHEME.sub(":" + _WORD_JOINER, text)


def escape(text: str, formatting: re.Pattern[str] = _FORMATTING, *, cleaned: bool = False) -> str:
    """Make untrusted text inert in any Slack text field: no ping, no link, no formatting."""
    text = escape_plain(text, cleaned=cleaned)
    text = formatting.sub(lambda m: _WORD_JOINER + m.group(0) + _WORD_JOINER, text)
    return _QUOTE_START.sub(_WORD_JOINER, text)


def escape_core(text: str, *, cleaned: bool = False) -> str:
    """The core's own text (a reply, an admin note), which may quote feed text and user input:
    like ``escape``, but its `code spans` stay (nothing inside one pings, links or formats)."""
    return escape(text, _EMPHASIS, cleaned=cleaned)


def slack_len(text: str) -> int:
    """Length as Slack counts it against its limits: an entity is one character."""
    return len(_ENTITY.sub("&", text))


def escape_linking(text: str) -> str:
    """Like ``escape_core``, but each http(s) URL in the text becomes a link built by ``link``.

    For the core's own replies, which name a story's link as a bare URL: the bot makes the
    link (percent-encoded, http(s) only) instead of leaving it to Slack's auto-linking.
    """
    text = _clean(text)
    out: list[str] = []
    last = 0
    for m in _WEB_URL.finditer(text):
        out.append(escape_core(text[last : m.start()], cleaned=True))
        out.append(link(m.group(0), m.group(0)))
        last = m.end()
    out.append(escape_core(text[last:], cleaned=True))
    return "".join(out)


def clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut to ``limit`` characters with an ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def safe(text: str, limit: int, esc: Callable[[str], str] = escape) -> str:
    """Clip first, then escape, so an entity is never cut in half; clipped further while the
    escaping (word joiners) makes it longer than ``limit`` as Slack counts it."""
    room = limit
    while True:
        out = esc(clip(text, room))
        over = slack_len(out) - limit
        if over <= 0 or room <= 1:
            return out
        room = max(1, room - over)


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
    return {"type": "plain_text", "text": safe(text, limit, escape_plain) or "-", "emoji": False}


def mrkdwn(text: str) -> Block:
    """A mrkdwn text object; the caller has escaped every untrusted part already.

    ``verbatim``: Slack leaves the text as written (no auto-linked URLs or channel names).
    """
    return {"type": "mrkdwn", "text": text[:SECTION_MAX] or "-", "verbatim": True}


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


def _date(when: datetime, label: str) -> str:
    # Slack shows the date in each reader's own time zone; the fallback is UTC.
    stamp = int(when.timestamp())
    fallback = f"{label} {when:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{stamp}^{label} {{date_short_pretty}} {{time}}|{fallback}>"


def context_line(card: StoryCard) -> str:
    topics = ", ".join(card.topics) or "no topic"
    published = _date(card.published, "published") if card.published else PUBLISHED_UNKNOWN
    parts = [f"Topics: {escape(topics)}", published, _date(card.first_seen, "first seen"),
             f"story `{escape(card.story_key)}`"]  # fmt: skip
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
        for chunk in _chunks(escape_linking(reply.text), SECTION_MAX):
            blocks.append({"type": "section", "text": mrkdwn(chunk)})
    # A value's own lines (a verdict, then its reasons) stay apart as " · " on the one line
    # that feed text inside it is held to.
    fields = [mrkdwn(f"*{safe(f.name, 200, escape_core)}*\n"
                     f"{safe(' · '.join(_lines(f.value)), 1790, escape_linking)}")
              for f in reply.fields]  # fmt: skip
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
    return safe(reply.text, 2000, escape_core) or "newsbot"


def admin_note(text: str) -> dict[str, Any]:
    """A note to an admin (a paused subscription, a feed gone) as chat.postMessage arguments.

    Unlike a reply it makes no link: a note can quote a failing feed's own text.
    """
    section = {"type": "section", "text": mrkdwn(safe(text, SECTION_MAX, escape_core))}
    return {"text": safe(text, 2000, escape_core), "blocks": [section]}


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
