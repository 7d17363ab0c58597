"""Discord rendering: story cards as embeds within Discord's limits, with feed text made inert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.adapters.discord.embeds import (
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_MAX,
    TITLE_MAX,
    card_embed,
    digest_embeds,
    render_reply,
    safe_text,
    safe_url,
)
from bot.core.models import Reply, ReplyField, SourceLink, StoryCard

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _card(headline: str = "Deal signed", sources: int = 1, extract: str = "Text.") -> StoryCard:
    return StoryCard(
        story_id=1,
        story_key="abc123",
        headline=headline,
        extract=extract,
        topics=("framework-agreement",),
        sources=tuple(
            SourceLink(f"Outlet {i}", f"Title {i}", f"https://o{i}.example/a", NOW)
            for i in range(sources)
        ),
        first_seen=NOW,
    )


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("@everyone look", "@\u200beveryone look"),
        ("@here now", "@\u200bhere now"),
        ("<@123456789012345678>", "<\u2060@\u200b123456789012345678>"),
        ("<@&123456789012345678>", "<\u2060@\u200b&123456789012345678>"),
        (
            "**bold** _it_ `code` ||spoiler||",
            "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\|\\|spoiler\\|\\|",
        ),
        ("# Heading", "\\# Heading"),
        ("> quote", "\\> quote"),
        ("[click](https://evil.example)", "\\[click\\](https:\u2060//evil.example)"),
    ],
)
def test_feed_text_is_escaped_and_cannot_ping(text: str, inert: str) -> None:
    assert safe_text(text) == inert


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://a.example/x_(y)", "https://a.example/x_%28y%29"),
        ("http://a.example/a b", "http://a.example/a%20b"),
        ("javascript:alert(1)", None),
        ("ftp://a.example/f", None),
        ("", None),
        (None, None),
        ("https://a.example/" + "x" * 3000, None),
    ],
)
def test_only_plain_http_links_are_used(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_card_embed_has_title_link_extract_topics_outlets_and_story_footer() -> None:
    embed = card_embed(_card(sources=2), {"framework-agreement": "Framework agreement"}).to_dict()
    assert embed["title"] == "Deal signed"
    assert embed["url"] == "https://o0.example/a"
    assert embed["description"] == "Text."
    assert embed["fields"][0] == {"name": "Topics", "value": "Framework agreement", "inline": False}
    assert embed["fields"][1]["value"] == (
        "[Outlet 0](https://o0.example/a)\n[Outlet 1](https://o1.example/a)"
    )
    assert embed["footer"]["text"] == "story abc123"


def test_a_huge_card_stays_inside_discords_limits() -> None:
    embed = card_embed(_card(headline="H" * 1000, sources=200, extract="E" * 9000))
    data = embed.to_dict()
    assert len(data["title"]) <= TITLE_MAX
    assert len(data["fields"][1]["value"]) <= FIELD_VALUE_MAX
    assert data["fields"][1]["value"].endswith("more")
    assert len(embed) <= EMBED_TOTAL_MAX


def test_a_long_digest_is_one_message_within_limits() -> None:
    cards = [_card(headline=f"Story {i} " + "x" * 200) for i in range(100)]
    embeds = digest_embeds("Weekly digest", cards)
    assert 1 <= len(embeds) <= EMBEDS_PER_MESSAGE
    assert sum(len(e) for e in embeds) <= EMBED_TOTAL_MAX
    assert embeds[0].title == "Weekly digest"
    assert embeds[-1].footer.text and "more stories" in embeds[-1].footer.text


def test_a_reply_keeps_its_markdown_but_not_its_mentions() -> None:
    reply = Reply(
        text="This channel follows `a` @everyone",
        fields=(ReplyField("mode", "realtime"),),
        ephemeral=False,
    )
    rendered = render_reply(reply)
    assert rendered.content == "This channel follows `a` @\u200beveryone"
    assert rendered.embeds[0].fields[0].value == "realtime"
    assert rendered.ephemeral is False
