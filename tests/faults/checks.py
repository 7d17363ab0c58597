"""Invariants every fault case asserts: on stored rows, on Slack and Discord renders, on messages.

They are invariants, not expected strings: whatever wording a renderer picks, feed text must not
ping anyone, carry a link the bot did not build, hide or reorder characters, or break a
platform's limits; a failure message must be one plain line a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import discord

from bot.adapters.discord import embeds as discord_embeds
from bot.adapters.slack import blocks as slack_blocks
from bot.core.models import StoryCard
from bot.storage.tables import ItemRow

# Characters that reorder, hide or control text. U+2060 (word joiner) and U+200B after "@" are
# left out: they are what the renderers themselves insert to break @here / @everyone.
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = set("\u200b\u00ad\u180e\ufeff\u2061\u2062\u2063\u2064")
_BROKEN_PING = re.compile("@[\u200b\u2060]")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9._:-]{0,31}|#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8});")
_SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_SLACK_PING = re.compile(r"<[!@#]|@(?:here|channel|everyone)\b", re.IGNORECASE)
_DISCORD_PING = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>|<#\d+>")
_DISCORD_LINK = re.compile(r"\]\(([^()\s]*)\)")
_BARE_URL = re.compile(r"https?://", re.IGNORECASE)
_RAW_LIBRARY = re.compile(
    r"Traceback|message='|\bb'|\\x[0-9a-f]{2}|[A-Z][a-z]+(?:Error|Exception)\b|<unknown>:\d|"
    r"File \"",
)
ADVICE = re.compile(
    r"\b(check|ask|use|retr(?:y|ied|ying)|remove|find|correct|fix|slow down|raise|"
    r"contact|stopped|paused)\b|\bpoll\.[a-z_]+",
    re.IGNORECASE,
)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def bad_chars(text: str) -> list[str]:
    """Controls (but newline), bidi and invisible characters in ``text``, as code points."""
    text = _BROKEN_PING.sub("@", text)
    found = []
    for ch in text:
        if ch == "\n":
            continue
        if ch in _BIDI or ch in _INVISIBLE or unicodedata.category(ch) == "Cc":
            found.append(f"U+{ord(ch):04X}")
    return found


def check_stored(rows: Iterable[ItemRow]) -> None:
    """What any stored item holds: plain visible text, a web link or none, a plausible date."""
    now = datetime.now(UTC)
    for row in rows:
        for name in ("title", "summary", "source"):
            value: str = getattr(row, name) or ""
            assert not bad_chars(value), f"items.{name} keeps {bad_chars(value)}: {value[:80]!r}"
            assert not _ENTITY.search(value), f"items.{name} keeps an entity: {value[:80]!r}"
        assert row.title.strip() and row.title != "(untitled)", "an item has no headline"
        if row.url is not None:
            assert row.url.startswith(("http://", "https://")), f"unsafe link {row.url[:40]!r}"
            assert len(row.url) <= 2048, f"a {len(row.url)}-character link was stored"
            assert row.title != row.url, "an item's headline is its URL"
        if row.published_at is not None:
            published = row.published_at.replace(tzinfo=row.published_at.tzinfo or UTC)
            assert EARLIEST <= published <= now + timedelta(days=1), f"date {published} kept"


def check_message(error: str, *words: str, advice: bool = True) -> None:
    """A feed's failure as a person reads it: one line, no library text, says what to do."""
    assert "\n" not in error and "\r" not in error, f"message spans lines: {error!r}"
    assert len(error) <= 300, f"message is {len(error)} characters: {error[:100]!r}…"
    assert not _RAW_LIBRARY.search(error), f"raw library text in the message: {error!r}"
    assert not bad_chars(error), f"message carries {bad_chars(error)}"
    for word in words:
        assert re.search(word, error, re.IGNORECASE), f"message lacks {word!r}: {error!r}"
    if advice:
        assert ADVICE.search(error), f"message does not say what to do: {error!r}"


# -- Slack -----------------------------------------------------------------------------------


def slack_texts(blocks: Sequence[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(block type, text type, text) for every text object in ``blocks``."""
    for block in blocks:
        texts = [block.get("text"), *(block.get("fields") or []), *(block.get("elements") or [])]
        for obj in texts:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str | dict):
                inner = obj["text"]
                if isinstance(inner, dict):  # a button: its label
                    yield block["type"], inner["type"], inner["text"]
                else:
                    yield block["type"], obj["type"], inner


def check_slack(blocks: Sequence[dict[str, Any]], links: set[str]) -> None:
    assert len(blocks) <= slack_blocks.MAX_BLOCKS
    for block_type, kind, text in slack_texts(blocks):
        shown = _SLACK_ENTITY.sub("x", text)  # Slack counts an entity as one character
        limit = slack_blocks.HEADER_MAX if block_type == "header" else slack_blocks.SECTION_MAX
        assert len(shown) <= limit, f"a Slack {block_type} text is {len(shown)} characters"
        assert not bad_chars(text), f"Slack text carries {bad_chars(text)}: {text[:80]!r}"
        outside = text
        for token in _SLACK_TOKEN.findall(text):
            outside = outside.replace(f"<{token}>", " ")
            if token.startswith("!date^"):
                continue
            href = token.split("|", 1)[0]
            assert kind == "mrkdwn", f"markup <{token[:40]}> in plain text"
            assert _built_link(href.replace("&amp;", "&"), links), f"Slack link to {href[:60]!r}"
        assert not _SLACK_PING.search(outside), f"Slack text can ping: {text[:120]!r}"
        assert "<" not in outside and ">" not in outside, f"stray Slack markup: {text[:120]!r}"
        assert not _BARE_URL.search(outside), f"a bare URL Slack makes clickable: {text[:120]!r}"


def _built_link(href: str, links: set[str]) -> bool:
    return href.lower().startswith(("http://", "https://")) and unquote(href) in links


# -- Discord ---------------------------------------------------------------------------------


def discord_texts(embed: discord.Embed) -> Iterator[tuple[str, str]]:
    data = embed.to_dict()
    for key in ("title", "description"):
        if data.get(key):
            yield key, str(data[key])
    for f in data.get("fields", []):
        yield "field name", str(f["name"])
        yield "field value", str(f["value"])
    if data.get("footer"):
        yield "footer", str(data["footer"].get("text", ""))


def check_discord(embeds: Sequence[discord.Embed], links: set[str]) -> None:
    assert len(embeds) <= discord_embeds.EMBEDS_PER_MESSAGE
    assert sum(len(e) for e in embeds) <= discord_embeds.EMBED_TOTAL_MAX
    limits = {
        "title": discord_embeds.TITLE_MAX,
        "description": discord_embeds.DESCRIPTION_MAX,
        "field name": discord_embeds.FIELD_NAME_MAX,
        "field value": discord_embeds.FIELD_VALUE_MAX,
        "footer": discord_embeds.FOOTER_MAX,
    }
    for embed in embeds:
        if embed.url:
            assert _built_link(embed.url, links), f"Discord embed links to {embed.url[:60]!r}"
        for where, text in discord_texts(embed):
            assert len(text) <= limits[where], f"Discord {where} is {len(text)} characters"
            assert not bad_chars(text), f"Discord {where} carries {bad_chars(text)}"
            assert not _DISCORD_PING.search(text), f"Discord {where} can ping: {text[:120]!r}"
            outside = text
            for href in _DISCORD_LINK.findall(text):
                assert _built_link(href, links), f"Discord link to {href[:60]!r}"
                outside = outside.replace(f"]({href})", "] ")
            assert not _BARE_URL.search(outside), f"Discord makes a bare URL clickable: {text!r}"


def check_renders(cards: Sequence[StoryCard]) -> None:
    """Every posted card, as Slack and Discord show it alone, in a digest and in threads."""
    links = {unquote(s.url) for c in cards for s in c.sources if s.url}
    for card in cards:
        check_slack(slack_blocks.card_blocks(card), links)
        check_discord([discord_embeds.card_embed(card)], links)
        for source in card.sources:
            check_slack(slack_blocks.thread_reply_blocks(source), links)
    if cards:
        check_slack(slack_blocks.digest_blocks("Digest", cards), links)
        check_discord(discord_embeds.digest_embeds("Digest", cards), links)
