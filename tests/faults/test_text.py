"""Untrusted text: controls, terminal escapes, bidi, zero-width, entities, pings, markdown, URLs."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord import embeds as discord_embeds
from bot.adapters.slack import blocks as slack_blocks
from tests.faults.checks import discord_texts, slack_texts
from tests.faults.harness import COCHIN, Fault, Outcome, Sites, fresh, params, rss, run

HEADLINE = COCHIN["title"]  # "US Navy gains second Indian repair yard as Cochin joins Kattupalli"


def item(**changes: Any) -> Any:
    return lambda sites: sites.web.set_feed("/feed", rss(fresh(COCHIN, **changes)))


def raw_title(title: str) -> Any:
    """A title put into the XML as is (not escaped), as a broken or hostile feed sends it."""

    def serve(sites: Sites) -> str:
        body = rss(fresh(COCHIN, title="TITLE-MARK")).replace("TITLE-MARK", title)
        return sites.web.set_feed("/feed", body)

    return serve


def posted_clean(*gone: str, exact: bool = False) -> Any:
    """The report is stored and posted, its headline whole (``exact``: as the outlet wrote
    it), without ``gone`` pieces."""

    def check(o: Outcome) -> None:
        assert len(o.items) == 1
        title = o.items[0].title
        if exact:
            assert title == HEADLINE, f"{title!r} is not the outlet's headline"
        for piece in gone:
            assert piece not in title, f"{piece!r} kept in {title!r}"
        assert "Cochin" in title and "Indian" in title, f"headline mangled: {title!r}"
        assert COCHIN["url"] in [s.url for c in o.cards for s in c.sources], "not posted"

    return check


def no_markdown_pairs(o: Outcome) -> None:
    posted_clean()(o)
    marked = ("*US Navy*", "_second_", "~repair~", "`Cochin`")
    for card in o.cards:
        slack = [*slack_blocks.card_blocks(card), *slack_blocks.digest_blocks("D", [card])]
        slack += [b for s in card.sources for b in slack_blocks.thread_reply_blocks(s)]
        for _block, kind, text in slack_texts(slack):
            if kind == "mrkdwn":
                assert not [m for m in marked if m in text], f"Slack mrkdwn pairs: {text!r}"
        for embed in [discord_embeds.card_embed(card), *discord_embeds.digest_embeds("D", [card])]:
            for where, text in discord_texts(embed):
                assert not [m for m in marked if m in text], f"Discord {where} pairs: {text!r}"


FAULTS = [
    Fault(
        "control-chars-in-title",
        raw_title(
            "US Navy\x07 gains\x08 second Indian\x0b repair yard as Cochin\x1f joins Kattupalli"
        ),
        check=posted_clean(exact=True),
    ),
    Fault(
        "terminal-escapes-in-title",
        item(
            title="\x1b[31mUS Navy\x1b[0m gains second Indian repair yard as Cochin joins "
            "Kattupalli\x1b]0;pwned\x07"
        ),
        check=posted_clean("[31m", "pwned", "]0;", exact=True),
    ),
    Fault(
        "bidi-overrides",
        item(
            title="US Navy gains second Indian repair yard as \u202enihcoC\u202c Cochin "
            "\u2066joins\u2069 Kattupalli\u200f"
        ),
        check=posted_clean(),
    ),
    Fault(
        "zero-width-chars",
        item(
            title="US Navy gains second In\u200bdian repair yard as Coc\ufeffhin joins "
            "Katt\u200cupalli\u2060"
        ),
        check=posted_clean(exact=True),
    ),
    Fault(
        "undefined-entity-raw",
        raw_title("US Navy gains &xxe; second Indian repair yard as Cochin joins Kattupalli"),
        check=posted_clean("&xxe;", "xxe"),
    ),
    Fault(
        "undefined-entity-escaped",
        item(title="US Navy gains &xxe; second Indian repair yard as Cochin joins Kattupalli"),
        check=posted_clean("&xxe;"),
    ),
    Fault(
        "slack-mention-injection",
        item(
            title=f"<!here> <!channel> <@U024BE7LH> {HEADLINE} <https://evil.example/x|click>",
            summary="@channel <!everyone> <!subteam^S123> " + COCHIN["summary"],
        ),
        check=posted_clean(),
    ),
    Fault(
        "discord-mention-injection",
        item(
            title=f"@everyone @here <@123456789012345678> {HEADLINE}",
            summary="<@&123456789012345678> <#123456789012345678> [click](https://evil.example) "
            + COCHIN["summary"],
        ),
        check=posted_clean(),
    ),
    Fault(
        "markdown-injection",
        item(
            title="*US Navy* gains _second_ Indian ~repair~ yard as `Cochin` joins Kattupalli",
            summary="*US Navy* _second_ ~repair~ `Cochin` " + COCHIN["summary"],
        ),
        check=no_markdown_pairs,
    ),
    Fault(
        "bare-url-in-text",
        item(
            title=f"{HEADLINE} http://evil.example/phish",
            summary=COCHIN["summary"] + " Details: https://evil.example/login?next=1",
        ),
        check=posted_clean(),
    ),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_text(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    await run(fault, sites, loopback_only)
