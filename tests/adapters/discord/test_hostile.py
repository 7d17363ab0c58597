"""Every Discord renderer × every hostile string: no ping, no link but the bot's, no markdown
that can take effect, no bidi or control character, and Discord's limits kept; and every
send or edit in the adapter says ``AllowedMentions.none()``."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import discord
import pytest

import bot.adapters.discord
from bot.adapters.discord import embeds as de
from tests.adapters.hostile import (
    HOSTILE,
    NOW,
    PUBLISHED,
    SAFE_URLS,
    admin_text,
    bad_characters,
    hostile_card,
    hostile_reply,
    hostile_source,
)

Rendered = tuple[str | None, list[discord.Embed]]  # content, embeds


def _card(t: str) -> Rendered:
    return None, [de.card_embed(hostile_card(t), {"framework-agreement": t})]


def _update(t: str) -> Rendered:
    return None, [de.card_embed(hostile_card(t, published=None))]


def _thread(t: str) -> Rendered:
    return de.thread_reply_content(hostile_source(t)), []


def _digest(t: str) -> Rendered:
    cards = [hostile_card(t), replace(hostile_card(t), story_id=8, story_key="s8")]
    return None, de.digest_embeds(t, cards, {"framework-agreement": t})


def _held(t: str) -> Rendered:
    return None, de.digest_embeds(f"Held during quiet hours: 1 story ({t})", [hostile_card(t)])


def _reply(t: str) -> Rendered:
    rendered = de.render_reply(hostile_reply(t))
    return rendered.content, rendered.embeds


def _admin(t: str) -> Rendered:
    return de.admin_note(t, admin_text(t)), []


FEED_RENDERERS: dict[str, Callable[[str], Rendered]] = {
    "card": _card,
    "update": _update,
    "thread reply": _thread,
    "digest": _digest,
    "held release": _held,
}
# The core's own text keeps its **bold** and `code`; everything else is escaped in it too.
CORE_RENDERERS: dict[str, Callable[[str], Rendered]] = {"reply": _reply, "admin note": _admin}
RENDERERS = FEED_RENDERERS | CORE_RENDERERS

_MASKED = re.compile(r"(?<!\\)\[((?:\\.|[^\[\]\\])*)\]\(<?([^()<>\s]*)>?\)")
_ANGLE = re.compile(r"<(https?://[^\s<>]+)>")
_PERCENT_ENCODED = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_PING = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>|</[^>]+:\d+>|<t:-?\d+|<a?:\w+:\d+>")
_BLOCK_START = re.compile(r"^\s*(#|>|-|\d+\.)")


def _texts(content: str | None, embeds: list[discord.Embed]) -> list[str]:
    texts = [content] if content else []
    for embed in embeds:
        texts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        texts += [t for f in embed.fields for t in (f.name or "", f.value or "")]
    return [t for t in texts if t]


def _without(text: str, parts: set[str]) -> str:
    for part in parts:
        text = text.replace(part, "")
    return text


def _bot_links(text: str) -> tuple[str, list[str]]:
    """The text with each bot-made link reduced to its label, and the links' URLs."""
    urls = [m.group(2) for m in _MASKED.finditer(text)]
    text = _MASKED.sub(lambda m: m.group(1), text)
    urls += _ANGLE.findall(text)
    return _ANGLE.sub("", text), urls


def _unescaped(text: str, chars: str) -> int:
    count, i = 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2  # the escaped character is literal
            continue
        count += text[i] in chars
        i += 1
    return count


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_hostile_text_is_inert_in_every_discord_message(renderer: str, kind: str) -> None:
    core = renderer in CORE_RENDERERS
    content, embeds = RENDERERS[renderer](HOSTILE[kind])
    benign_content, benign_embeds = RENDERERS[renderer]("plain words")
    # The card's own times, as the bot writes them (Discord shows each reader's time zone).
    own_times = {f"<t:{int(t.timestamp())}:f>" for t in (PUBLISHED, NOW)}
    texts = [_without(t, own_times) for t in _texts(content, embeds)]
    assert texts

    chars = "_~|" if core else "*_~|`"
    for text in texts:
        assert not _PING.search(text), text
        assert bad_characters(text) == [], (text, bad_characters(text))
        plain, urls = _bot_links(text)
        # The only links are those the bot built from the cards' own http(s) addresses.
        for url in urls:
            assert url in SAFE_URLS if not core else _PERCENT_ENCODED.fullmatch(url), url
        assert not re.search(r"[A-Za-z]://", plain), plain
        assert _unescaped(plain, "[") == 0, plain  # no masked link but the bot's
        assert not any(_BLOCK_START.match(line) for line in plain.split("\n")), plain
    # Every markdown character of the input arrives escaped: as many take effect as with
    # harmless input (the bot's own markup).
    got = sum(_unescaped(_bot_links(t)[0], chars) for t in texts)
    benign = sum(_unescaped(_bot_links(t)[0], chars) for t in _texts(benign_content, benign_embeds))
    assert got == benign

    assert content is None or len(content) <= de.CONTENT_MAX
    assert len(embeds) <= de.EMBEDS_PER_MESSAGE
    assert sum(len(e) for e in embeds) <= de.EMBED_TOTAL_MAX
    for embed in embeds:
        assert len(embed.title or "") <= de.TITLE_MAX
        assert len(embed.description or "") <= de.DESCRIPTION_MAX
        assert len(embed.fields) <= de.FIELDS_MAX
        assert len(embed.footer.text or "") <= de.FOOTER_MAX
        for field in embed.fields:
            assert len(field.name or "") <= de.FIELD_NAME_MAX
            assert len(field.value or "") <= de.FIELD_VALUE_MAX


def test_the_card_shows_publication_time_next_to_first_seen() -> None:
    card = hostile_card("x")
    when = {f.name: f.value for f in de.card_embed(card).fields}["When"]
    published, first = int(card.published.timestamp()), int(card.first_seen.timestamp())  # type: ignore[union-attr]
    assert when == f"published <t:{published}:f> · first seen <t:{first}:f>"
    unknown = {f.name: f.value for f in de.card_embed(replace(card, published=None)).fields}
    assert unknown["When"] == f"publication time unknown · first seen <t:{first}:f>"


SENDS = {"send", "edit", "send_message"}


def test_every_send_and_edit_in_the_adapter_allows_no_mentions() -> None:
    package = Path(bot.adapters.discord.__file__).parent
    trees = [ast.parse(module.read_text()) for module in sorted(package.glob("*.py"))]
    calls = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in SENDS)
            # a send handed over as a value (the answer's send_message or followup.send)
            or (isinstance(node.func, ast.Name) and node.func.id in SENDS)
        )
    ]
    assert len(calls) >= 7  # post, update, thread reply, digest, admin DM, a reply and its retry
    for call in calls:
        kwargs = {k.arg: k.value for k in call.keywords}
        assert "allowed_mentions" in kwargs, ast.unparse(call)
        assert ast.unparse(kwargs["allowed_mentions"]) == "NO_MENTIONS", ast.unparse(call)
    assert de.NO_MENTIONS.to_dict() == {"parse": []}
