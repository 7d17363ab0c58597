"""Every console renderer × every hostile string: no control, escape, bidi or invisible
character reaches the terminal, and feed text cannot add lines (a fake alert or prompt)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.adapters import console
from tests.adapters.hostile import (
    HOSTILE,
    admin_text,
    bad_characters,
    hostile_card,
    hostile_reply,
    hostile_source,
)

RENDERERS: dict[str, Callable[[str], str]] = {
    "card": lambda t: console.render_card(hostile_card(t)),
    "update": lambda t: console.render_card(hostile_card(t, published=None), update=True),
    "thread reply": lambda t: console.render_thread_reply(hostile_source(t)),
    "digest": lambda t: console.render_digest(
        t, [hostile_card(t), replace(hostile_card(t), story_key="s8")]
    ),
    "held release": lambda t: console.render_digest(
        f"Held during quiet hours: 1 story ({t})", [hostile_card(t)]
    ),
    "reply": lambda t: console.render_reply(hostile_reply(t)),
    "admin note": lambda t: console.render_admin_note(admin_text(t)),
}


def _tags(out: str) -> list[str]:
    return [line.split("]")[0] for line in out.split("\n") if line.startswith("[")]


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_hostile_text_is_plain_on_the_console(renderer: str, kind: str) -> None:
    out = RENDERERS[renderer](HOSTILE[kind])
    benign = RENDERERS[renderer]("plain words")
    assert bad_characters(out, allowed_formats="") == []
    assert "\x1b" not in out and "\r" not in out
    # Feed text never adds a line; only the core's reply text keeps its own line breaks (the
    # hostile text is quoted twice in it, as an error echoing user input would).
    own_breaks = 2 * HOSTILE[kind].count("\n") if renderer == "reply" else 0
    assert out.count("\n") == benign.count("\n") + own_breaks
    assert _tags(out) == _tags(benign)  # no fake [ALERT] line


def test_the_card_shows_publication_time_next_to_first_seen() -> None:
    card = hostile_card("x")
    lines = console.render_card(card).split("\n")
    assert "  published: 2026-11-24 07:30 UTC" in lines
    assert "  first seen: 2026-11-24 09:00 UTC" in lines
    unknown = console.render_card(replace(card, published=None)).split("\n")
    assert "  published: unknown" in unknown
