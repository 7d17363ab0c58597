"""Discord rendering: story cards as embeds, command replies, escaping of untrusted feed text.

Feed text goes through ``untrusted_text`` (bidi, controls, zero-width), then has every markdown
character backslash-escaped (``* _ ~ ` | \\ [ ]``, and ``#``/``>``/``-``/``1.`` that open a
line), its mentions broken (``@everyone``, ``<@id>``, ``<@&id>``) and a word joiner
after each ``<`` (no ``<#channel>``, ``<t:…>``, ``</cmd:id>`` or custom-emoji syntax). The
``://`` of a URL in feed text is split by a word joiner, so Discord does not auto-link it:
only the links built here (http(s), percent-encoded, in ``[label](url)`` or ``<url>``) are
clickable. The core's own text (replies, admin notes) keeps its ``**bold**`` and `code`; the
rest of it is treated the same way, and its bare http(s) URLs become links built here.
Every message is sent with ``AllowedMentions.none()`` as well.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import discord
from discord.utils import escape_mentions

from bot.adapters.console_files import safe_filename
from bot.core.models import Reply, SourceLink, StoryCard
from bot.core.textsafety import untrusted_text

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10
CONTENT_MAX = 2000
URL_MAX = 2048

# Deep blue for alerts, red for a failed command, grey for a plain answer.
ALERT_COLOUR = discord.Colour(0x1F6FEB)
ERROR_COLOUR = discord.Colour(0xD73A49)
INFO_COLOUR = discord.Colour(0x6E7781)

NO_MENTIONS = discord.AllowedMentions.none()


_WORD_JOINER = "\u2060"
_MARKDOWN = re.compile(r"[\\*_~|`\[\]]")
_SCHEME = re.compile(r"(?<=[A-Za-z0-9+.-]):(?=//)")
_LINE_START = re.compile(r"^(\s*)([#>-])", re.MULTILINE)
_LIST_START = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
_CORE_MARKDOWN = re.compile(r"[_~|\[\]\\]")
_WEB_URL = re.compile(r"https?://[^\s<>\"'`|\[\]()]+[^\s<>\"'`|\[\]().,;:!?]")


def _inert(text: str) -> str:
    # Shared by feed and core text: no channel/emoji/timestamp syntax, no auto-linked URL.
    text = text.replace("<", "<" + _WORD_JOINER)
    return _SCHEME.sub(":" + _WORD_JOINER, text)


def _no_blocks(text: str) -> str:
    # Headings, quotes, subtext and lists only start a line; an escaped first character ends it.
    return _LIST_START.sub(r"\1\\.", _LINE_START.sub(r"\1\\\2", text))


def safe_text(text: str) -> str:
    """Feed text made inert: one clean line, markdown escaped, no ping, no link."""
    # Not discord.utils.escape_markdown: its masked-link pattern is greedy and leaves whatever
    # lies between a "[" and the last ")" of the text unescaped.
    text = _MARKDOWN.sub(lambda m: "\\" + m.group(0), _inert(untrusted_text(text)))
    return escape_mentions(_no_blocks(text))


def core_text(text: str, *, links: bool = True) -> str:
    """The core's own text made safe to send; its ``**bold**`` and `code` stay, its bare
    http(s) URLs become ``<url>`` links built here (percent-encoded, no preview card)."""
    text = "\n".join(untrusted_text(line) for line in text.split("\n"))
    out: list[str] = []
    last = 0
    for m in _WEB_URL.finditer(text) if links else ():
        url = safe_url(m.group(0))
        out.append(_core_part(text[last : m.start()]))
        out.append(f"<{url}>" if url else _core_part(m.group(0)))
        last = m.end()
    out.append(_core_part(text[last:]))
    return "".join(out)


def _core_part(text: str) -> str:
    text = _CORE_MARKDOWN.sub(lambda m: "\\" + m.group(0), _inert(text))
    return escape_mentions(_no_blocks(text))


def _label(text: str) -> str:
    """Text inside ``[...]`` of a masked link: ``safe_text`` escapes its brackets too."""
    return safe_text(text)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL Discord accepts and markdown cannot be broken by, or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Parentheses, spaces and angle brackets would end a masked link's (…) early.
    quoted = quote(url.strip(), safe=":/?#[]@!$&'*+,;=%~-._")
    return quoted if len(quoted) <= URL_MAX else None


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def source_line(source: SourceLink) -> str:
    """One outlet as ``[Outlet](url)`` (or plain name without a usable link)."""
    name = source.outlet or source.title or "source"
    url = safe_url(source.url)
    return f"[{_label(name)}]({url})" if url else safe_text(name)


def _join_limited(lines: Sequence[str], limit: int) -> str:
    """Join lines with newlines up to ``limit``; the rest becomes "+N more"."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i
        reserve = len(f"\n+{rest} more") if rest > 1 else 0
        if used + len(line) + 1 + reserve > limit:
            out.append(f"+{rest} more")
            break
        out.append(line)
        used += len(line) + 1
    return clip("\n".join(out), limit)


def card_embed(card: StoryCard, topic_names: dict[str, str] | None = None) -> discord.Embed:
    """A story card as one embed: headline linking to the first report, extract, topics, outlets."""
    names = topic_names or {}
    embed = discord.Embed(
        title=clip(safe_text(card.headline), TITLE_MAX),
        url=safe_url(card.url),
        description=clip(safe_text(card.extract), DESCRIPTION_MAX) if card.extract else None,
        colour=ALERT_COLOUR,
        timestamp=card.first_seen,
    )
    if card.topics:
        topics = ", ".join(safe_text(names.get(t, t)) for t in card.topics)
        embed.add_field(name="Topics", value=clip(topics, FIELD_VALUE_MAX), inline=False)
    if card.sources:
        outlets = _join_limited([source_line(s) for s in card.sources], FIELD_VALUE_MAX)
        count = len(card.sources)
        embed.add_field(
            name=f"Reported by {count} outlet{'s' if count != 1 else ''}",
            value=outlets,
            inline=False,
        )
    if card.linked_story_key:
        embed.add_field(
            name="Follows", value=f"story {safe_text(card.linked_story_key)}", inline=False
        )
    embed.add_field(name="When", value=when_line(card), inline=False)
    embed.set_footer(text=clip(f"story {card.story_key}", FOOTER_MAX))
    return embed


def when_line(card: StoryCard) -> str:
    """ "published … · first seen …" in Discord timestamps (each reader's own time zone)."""
    published = (
        f"published <t:{int(card.published.timestamp())}:f>"
        if card.published
        else "publication time unknown"
    )
    return f"{published} · first seen <t:{int(card.first_seen.timestamp())}:f>"


def thread_reply_content(source: SourceLink) -> str:
    """A later report under its story's alert: ``Outlet: [title](<url>)``."""
    url = safe_url(source.url)
    title = _label(source.title or source.outlet)
    outlet = safe_text(source.outlet)
    # <url> keeps Discord from unfurling a second preview card under the reply.
    line = f"{outlet}: [{title}](<{url}>)" if url else f"{outlet}: {title}"
    return clip(line, CONTENT_MAX)


def admin_note(where: str, text: str) -> str:
    """A direct message to an admin: the server's name, then the core's note (no links made:
    a note can quote a failing feed's own text)."""
    return clip(f"newsbot in {safe_text(where)}: {core_text(text, links=False)}", CONTENT_MAX)


def _digest_line(card: StoryCard, names: dict[str, str]) -> str:
    url = safe_url(card.url)
    head = clip(_label(card.headline), 300)
    head = f"[{head}]({url})" if url else head
    outlets = len(card.sources)
    meta = f"{outlets} outlet{'s' if outlets != 1 else ''}"
    topics = ", ".join(safe_text(names.get(t, t)) for t in card.topics)
    if topics:
        meta += f" · {topics}"
    return f"• {head}\n  {meta} · story {safe_text(card.story_key)}"


def digest_embeds(
    title: str, cards: Sequence[StoryCard], topic_names: dict[str, str] | None = None
) -> list[discord.Embed]:
    """A digest as ONE message: a line per story, spread over embeds within Discord's limits."""
    names = topic_names or {}
    # A message carries at most 10 embeds and 6000 embed characters in total.
    budget_total = EMBED_TOTAL_MAX - TITLE_MAX - 100
    groups: list[list[str]] = [[]]
    used = 0
    shown = 0
    for card in cards:
        line = _digest_line(card, names)
        size = len(groups[-1] and "\n".join(groups[-1]))
        if used + len(line) + 1 > budget_total:
            break
        if size + len(line) + 1 > DESCRIPTION_MAX:
            if len(groups) == EMBEDS_PER_MESSAGE:
                break
            groups.append([])
        groups[-1].append(line)
        used += len(line) + 1
        shown += 1
    embeds = [
        discord.Embed(description="\n".join(g) or "No stories.", colour=ALERT_COLOUR)
        for g in groups
    ]
    embeds[0].title = clip(safe_text(title), TITLE_MAX)
    if shown < len(cards):
        embeds[-1].set_footer(text=f"+{len(cards) - shown} more stories not shown")
    return embeds


@dataclass(frozen=True, slots=True)
class RenderedReply:
    content: str | None
    embeds: list[discord.Embed]
    ephemeral: bool


FILES_MAX = 10  # files per message (Discord's limit)


def reply_files(reply: Reply) -> list[discord.File]:
    """The reply's attachments as uploads, under safe names (a file never picks its path)."""
    return [
        discord.File(io.BytesIO(a.data), filename=safe_filename(a.filename),
                     description=clip(core_text(a.title), 1024) or None)
        for a in reply.attachments[:FILES_MAX]
    ]  # fmt: skip


def render_reply(reply: Reply, topic_names: dict[str, str] | None = None) -> RenderedReply:
    """A core ``Reply`` as message content plus embeds (fields and links in one, cards after)."""
    embeds: list[discord.Embed] = []
    if reply.fields or reply.links:
        embed = discord.Embed(colour=INFO_COLOUR if reply.ok else ERROR_COLOUR)
        for f in reply.fields[:FIELDS_MAX]:
            embed.add_field(
                name=clip(core_text(f.name), FIELD_NAME_MAX) or "\u200b",
                value=clip(core_text(f.value), FIELD_VALUE_MAX) or "\u200b",
                inline=False,
            )
        if reply.links:
            links = [
                f"[{_label(link.title or link.outlet)}]({url})" if url else safe_text(link.title)
                for link in reply.links
                for url in [safe_url(link.url)]
            ]
            embed.description = _join_limited(links, DESCRIPTION_MAX)
        embeds.append(embed)
    for card in reply.cards[: EMBEDS_PER_MESSAGE - len(embeds)]:
        embeds.append(card_embed(card, topic_names))
    while embeds and sum(len(e) for e in embeds) > EMBED_TOTAL_MAX:
        embeds.pop()
    # The core's text may quote feed text and user input: see core_text.
    content = clip(core_text(reply.text), CONTENT_MAX) if reply.text else None
    if content is None and not embeds:
        content = "Done." if reply.ok else "That did not work."
    return RenderedReply(content=content, embeds=embeds, ephemeral=reply.ephemeral)
