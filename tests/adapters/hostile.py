"""Hostile text for the renderer tables: every class of injection a feed, a user or a stored
row from before the parse-boundary fix can carry, and the cards and replies that carry it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from bot.core.models import Reply, ReplyField, SourceLink, StoryCard

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PUBLISHED = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
# The only links a renderer may make: the card's own report links.
SAFE_URLS = ("https://www.thehindu.com/a?x=1&y=2", "https://reuters.example/b")

HOSTILE = {
    "slack broadcasts": "<!here> <!channel> <!everyone> <!subteam^S0123>",
    "bare broadcasts": "@here @channel @everyone @Everyone",
    "slack user and channel": "<@U0ALICE> <#C0123|general> hi",
    "slack link": "<https://evil.example|click me> <javascript:alert(1)|x>",
    "discord pings": "@everyone <@123456789012345678> <@!123456789012345678> "
    "<@&123456789012345678> <#123456789012345678>",
    "discord syntax": "</news:123456789012345678> <t:0:R> <:blob:123456789012345678>",
    "masked links": "[click](javascript:alert(1)) [win](https://evil.example/x)",
    "bare urls": "see http://evil.example/x and https://evil.example/y?a=1 or evil.example",
    "emphasis": "*bold* _italic_ ~strike~ **more** __under__ ~~gone~~",
    "code": "`code` ```fence\nrm -rf /\n``` done",
    "spoiler": "||spoiler|| text",
    "line-start blocks": "# Heading\n> quote\n>>> rest\n-# subtext\n- item\n1. first",
    "heading only": "# Breaking: everything",
    "quote only": "> quoted claim",
    "bidi": "invoice\u202egpj.exe\u202c and \u2066rtl\u2069 \u200e\u200f\u061c",
    "controls": "bell\x07 esc\x1b[31mred\x1b[0m osc\x1b]0;title\x07 bs\x08 nul\x00 del\x7f",
    "zero width": "In\u200bdia\u200c\u200d U\ufeffS \u2060tag\U000e0041\U000e0042",
    "entities": "&xxe; &amp; &lt;b&gt; &#0; &#x202e;",
    "mixed": "*@everyone* <!here> [x](http://evil.example) ||\u202espoof|| # not a heading",
    "over-long": "long " * 2000 + "*end*",
    "over-long word": "A" * 9000,
}


def hostile_card(text: str, *, published: datetime | None = PUBLISHED) -> StoryCard:
    """A card whose every feed-derived field carries ``text``; its links stay the bot's own."""
    return StoryCard(
        story_id=7,
        story_key="s7",
        headline=text,
        extract=text,
        topics=("framework-agreement",),
        sources=(
            SourceLink(text, text, SAFE_URLS[0], NOW),
            SourceLink(text, text, SAFE_URLS[1], NOW),
            SourceLink(text, text, "javascript:alert(1)", NOW),  # never a link
            SourceLink(text, text, text, NOW),  # the hostile text as a "URL"
        ),
        first_seen=NOW,
        published=published,
    )


def hostile_source(text: str) -> SourceLink:
    return SourceLink(text, text, SAFE_URLS[0], NOW)


def hostile_reply(text: str) -> Reply:
    """A reply as the core builds one around user input and feed text (an error echoes it)."""
    return Reply(
        text=f"Unknown topic `{text}`: {text}\nTry /news topics.",
        fields=(ReplyField(text, text), ReplyField(f"`s7` {text}", f"{text}\n{SAFE_URLS[0]}")),
        links=(hostile_source(text), SourceLink(text, text, "javascript:alert(1)")),
        cards=(hostile_card(text),),
        ok=False,
    )


def admin_text(text: str) -> str:
    return f'Subscription in #news paused: feed "{text}" failed ({text})'


def bad_characters(text: str, allowed_formats: str = "\u2060\u200b") -> list[str]:
    """Controls (other than a line break) and invisible format characters (bidi, zero-width,
    tags) left in rendered text; ``allowed_formats`` are the escapes a renderer adds."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if (unicodedata.category(ch) == "Cc" and ch != "\n")
        or (unicodedata.category(ch) == "Cf" and ch not in allowed_formats)
    ]
