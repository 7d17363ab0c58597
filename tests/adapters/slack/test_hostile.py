"""Every Slack renderer × every hostile string: no ping, no link but the bot's, no formatting
that can pair, no bidi or control character, and Slack's limits kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest

from bot.adapters.slack import blocks as kit
from tests.adapters.hostile import (
    HOSTILE,
    SAFE_URLS,
    admin_text,
    bad_characters,
    hostile_card,
    hostile_reply,
    hostile_source,
)

WJ = "\u2060"
Rendered = tuple[list[dict[str, Any]], str]  # blocks, top-level text


def _card(t: str) -> Rendered:
    c = hostile_card(t)
    return kit.card_blocks(c), kit.card_text(c)


def _update(t: str) -> Rendered:
    # chat.update sends the same blocks; the card of an update may lack a publication time.
    c = hostile_card(t, published=None)
    return kit.card_blocks(c), kit.card_text(c)


def _thread(t: str) -> Rendered:
    return kit.thread_reply_blocks(hostile_source(t)), kit.thread_reply_text(hostile_source(t))


def _digest(t: str) -> Rendered:
    cards = [hostile_card(t), replace(hostile_card(t), story_id=8, story_key="s8")]
    return kit.digest_blocks(t, cards), kit.digest_text(t, cards)


def _held(t: str) -> Rendered:
    cards = [hostile_card(t)]
    title = f"Held during quiet hours: 1 story ({t})"
    return kit.digest_blocks(title, cards), kit.digest_text(title, cards)


def _reply(t: str) -> Rendered:
    return kit.reply_blocks(hostile_reply(t)), kit.reply_text(hostile_reply(t))


def _admin(t: str) -> Rendered:
    note = kit.admin_note(admin_text(t))
    return note["blocks"], note["text"]


# The core's own text keeps its `code spans`; feed text has every formatting character fenced.
FEED_RENDERERS: dict[str, Callable[[str], Rendered]] = {
    "card": _card,
    "update": _update,
    "thread reply": _thread,
    "digest": _digest,
    "held release": _held,
}
CORE_RENDERERS: dict[str, Callable[[str], Rendered]] = {"reply": _reply, "admin note": _admin}
RENDERERS = FEED_RENDERERS | CORE_RENDERERS

_DATE = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")
_LINK = re.compile(r"<([^|<>]*)\|[^<>]*>")
_PERCENT_ENCODED = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object in a block tree."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _without_bot_syntax(text: str, core: bool) -> tuple[str, list[str]]:
    """The text with the bot's own <!date…> and <url|label> removed, and the hrefs found."""
    hrefs = [m.group(1) for m in _LINK.finditer(_DATE.sub("", text))]
    stripped = _LINK.sub(lambda m: "", _DATE.sub("", text))
    return stripped, hrefs


def _unfenced(text: str, chars: str) -> int:
    text = _LINK.sub(lambda m: "<|>", text)  # an href is the bot's own, percent-encoded
    return sum(
        1
        for i, ch in enumerate(text)
        if ch in chars and not (0 < i < len(text) - 1 and text[i - 1] == WJ and text[i + 1] == WJ)
    )


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_hostile_text_is_inert_in_every_slack_message(renderer: str, kind: str) -> None:
    core = renderer in CORE_RENDERERS
    render = RENDERERS[renderer]
    blocks, fallback = render(HOSTILE[kind])
    benign_blocks, _ = render("plain words")
    objects = list(_objects(blocks))
    assert objects and len(blocks) <= kit.MAX_BLOCKS
    texts = [o["text"] for o in objects] + [fallback]
    safe_hrefs = {quote(u, safe=":/?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;") for u in SAFE_URLS}

    for obj in objects:
        text = obj["text"]
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True  # Slack auto-links nothing in it
            lines = text.split("\n")
            assert not any(line.startswith(("&gt;", ">")) for line in lines), text
    for text in texts:
        stripped, hrefs = _without_bot_syntax(text, core)
        # No ping and no control syntax: every < > & of the input arrives as an entity.
        assert "<" not in stripped and ">" not in stripped, stripped
        assert not _BROADCAST.search(stripped), stripped
        # The only clickable links are those the bot built: http(s), percent-encoded.
        assert not re.search(r"[A-Za-z]://", stripped), stripped
        for href in hrefs:
            assert href in safe_hrefs if not core else _PERCENT_ENCODED.fullmatch(href), href
        assert bad_characters(text, WJ) == [], (text, bad_characters(text, WJ))
        assert len(text) <= 40_000

    # No formatting character of the input can pair: the count outside word-joiner fences is
    # what the bot's own markup has with harmless input (its *bold* links, `story` keys).
    chars = "*_~" if core else "*_~`"
    mrkdwn = [o["text"] for o in objects if o["type"] == "mrkdwn"]
    benign = [o["text"] for o in _objects(benign_blocks) if o["type"] == "mrkdwn"]
    assert sum(_unfenced(t, chars) for t in mrkdwn) == sum(_unfenced(t, chars) for t in benign)

    for block in blocks:
        if block["type"] == "header":
            assert kit.slack_len(block["text"]["text"]) <= kit.HEADER_MAX
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        for field in block.get("fields", []):
            assert kit.slack_len(field["text"]) <= 2000
        if "text" in block:
            assert kit.slack_len(block["text"]["text"]) <= kit.SECTION_MAX


def test_published_and_first_seen_both_show_on_the_card() -> None:
    card = hostile_card("x")
    line = kit.context_line(card)
    assert f"<!date^{int(card.published.timestamp())}^published " in line  # type: ignore[union-attr]
    assert "|published 2026-11-24 07:30 UTC>" in line
    assert f"<!date^{int(card.first_seen.timestamp())}^first seen " in line
    assert line.index("published") < line.index("first seen")
    unknown = kit.context_line(replace(card, published=None))
    assert "publication time unknown · <!date^" in unknown


def test_the_core_names_a_link_and_the_bot_builds_it() -> None:
    [section] = kit.reply_blocks(hostile_reply("x"))[:1]
    assert "<https://evil.example" not in section["text"]["text"]
    field_block = kit.reply_blocks(hostile_reply("x"))[1]
    value = field_block["fields"][1]["text"]
    assert "<https://www.thehindu.com/a?x=1&amp;y=2|" in value
