"""The console's rendering of a reply: one line per field, its own lines kept apart."""

from __future__ import annotations

from bot.adapters.console import render_reply
from bot.core.models import Reply, ReplyField


def test_a_fields_lines_stay_apart_on_its_one_line_and_a_trailing_link_gets_its_own() -> None:
    why = "relevant (score 1.00)\nUS side: Hegseth\nIndia side: Singh"
    reply = Reply(
        text="Why:",
        fields=(
            ReplyField("#1 Pact signed", why),
            ReplyField("#2 Report", "The Hindu · 2025-10-31\nhttps://news.example/2"),
        ),
    )
    assert render_reply(reply).splitlines() == [
        "Why:",
        "  #1 Pact signed: relevant (score 1.00) · US side: Hegseth · India side: Singh",
        "  #2 Report: The Hindu · 2025-10-31",
        "    https://news.example/2",
    ]
