"""Block Kit rendering: feed text escaped everywhere, Slack's limits kept, unbreakable links."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.adapters.slack import blocks as kit
from bot.core.models import Reply, ReplyField, SourceLink
from tests.adapters.slack.fixtures import card

WJ = "\u2060"  # word joiner


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Pentagon & MoD", "Pentagon &amp; MoD"),
        ("<!channel> alert", "&lt;!channel&gt; alert"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("<@U0ALICE> said", "&lt;@U0ALICE&gt; said"),
        ("<!subteam^S123>", "&lt;!subteam^S123&gt;"),
        ("<https://evil.example|click me>", f"&lt;https:{WJ}//evil.example|click me&gt;"),
        ("@here now", f"@{WJ}here now"),
        ("@Channel and @everyone", f"@{WJ}Channel and @{WJ}everyone"),
        ("mail@here.example", f"mail@{WJ}here.example"),
        ("@hereafter stays", "@hereafter stays"),
        ("&amp; already", "&amp; already"),  # untrusted_text decodes a leftover known entity
    ],
)
def test_escape_makes_feed_text_inert(raw: str, escaped: str) -> None:
    assert kit.escape(raw) == escaped


def test_links_keep_their_label_and_cannot_close_early() -> None:
    assert kit.link("https://a.example/x?a=1&b=2", "A & B") == (
        "<https://a.example/x?a=1&amp;b=2|A &amp; B>"
    )
    hostile = kit.link("https://a.example/x|<!here>", "t")
    assert hostile.startswith("<https://a.example/x%7C%3C!here%3E|")
    assert kit.link("javascript:alert(1)", "label") == "label"  # not a web link: text only
    assert kit.link(None, "<b>") == "&lt;b&gt;"


def test_plain_text_fields_are_escaped_too() -> None:
    evil = card(headline="<!channel> @here & co", extract="<@U1> <!everyone>")
    blocks = kit.card_blocks(evil)
    header, extract = blocks[0]["text"], blocks[1]["text"]
    assert header["type"] == extract["type"] == "plain_text"
    assert header["text"] == f"&lt;!channel&gt; @{WJ}here &amp; co"
    assert "<" not in extract["text"] and ">" not in extract["text"]


def test_a_long_headline_fits_the_header_limit() -> None:
    blocks = kit.card_blocks(card(headline="word " * 100))
    assert len(blocks[0]["text"]["text"]) <= kit.HEADER_MAX
    assert blocks[0]["text"]["text"].endswith("…")


def test_card_lists_the_first_outlet_then_the_later_ones() -> None:
    grown = card(outlets=(("The Hindu", "t1", "https://h.example/1"),
                          ("Reuters", "t2", "https://r.example/2"),
                          ("ThePrint", "t3", "https://p.example/3")))  # fmt: skip
    line = kit.outlets_line(grown)
    assert line == (
        "Reported by <https://h.example/1|The Hindu> · also reported by "
        "<https://r.example/2|Reuters>, <https://p.example/3|ThePrint>"
    )


def test_follow_up_story_names_the_earlier_one() -> None:
    follow = replace(card(), linked_story_key="s1")
    assert "follow-up to `s1`" in kit.context_line(follow)


def test_a_big_digest_stays_within_fifty_blocks_and_says_how_many_more() -> None:
    cards = [card(story_id=i, story_key=f"s{i}", headline=f"Story {i}") for i in range(40)]
    blocks = kit.digest_blocks("Weekly digest", cards)
    assert len(blocks) <= kit.MAX_BLOCKS
    assert "and 24 more stories" in json.dumps(blocks)
    assert kit.digest_text("Weekly digest", cards) == "Weekly digest: 40 stories"


def test_an_empty_digest_says_so() -> None:
    blocks = kit.digest_blocks("Daily digest", [])
    assert blocks[-1]["text"]["text"] == "Nothing new in this period."


def test_reply_with_many_fields_uses_sections_of_ten() -> None:
    reply = Reply(text="Topics", fields=tuple(ReplyField(f"t{i}", "d") for i in range(23)))
    sections = [b for b in kit.reply_blocks(reply) if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]


def test_reply_text_is_escaped_but_keeps_code_spans() -> None:
    reply = Reply(text="unknown topic `<!here>`; try `/news topics`")
    [section] = kit.reply_blocks(reply)
    assert section["text"]["text"] == "unknown topic `&lt;!here&gt;`; try `/news topics`"


def test_long_reply_text_is_split_on_line_breaks() -> None:
    reply = Reply(text="\n".join(f"line {i} " + "x" * 80 for i in range(100)))
    sections = kit.reply_blocks(reply)
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= kit.SECTION_MAX for s in sections)
    assert sections[1]["text"]["text"].startswith("line ")


def test_a_reply_full_of_cards_stays_within_fifty_blocks() -> None:
    reply = Reply(text="latest", cards=tuple(card(story_key=f"s{i}") for i in range(20)))
    assert len(kit.reply_blocks(reply)) <= kit.MAX_BLOCKS


def test_thread_reply_names_the_outlet_and_links_the_report() -> None:
    source = SourceLink("Reuters", "US & India agree", "https://r.example/2")
    [block] = kit.thread_reply_blocks(source)
    assert block["text"]["text"] == (
        "Also reported by *Reuters*: <https://r.example/2|US &amp; India agree>"
    )


def test_a_fields_own_lines_stay_apart_in_its_slack_field() -> None:
    reply = Reply(text="Why:", fields=(ReplyField("#1 Pact", "relevant\nUS side: Hegseth"),))
    (_, section) = kit.reply_blocks(reply)
    assert section["fields"][0]["text"] == "*#1 Pact*\nrelevant · US side: Hegseth"
