"""Untrusted feed text loses every character that could reorder, hide or control what is shown."""

from __future__ import annotations

import pytest

from bot.core.textsafety import untrusted_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("US \u202eaidnI\u202c deal", "US aidnI deal"),  # right-to-left override
        ("\u2066India\u2069 \u200eUS\u200f", "India US"),  # isolates and marks
        ("\x1b[31mRed\x1b[0m alert", "Red alert"),  # colour (CSI)
        ("\x1b]0;owned\x07Title", "Title"),  # window title (OSC … BEL)
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink (OSC … ST)
        ("Ding\x07 back\x08space\x00", "Ding backspace"),  # BEL, BS, NUL
        ("C1\x9b2Jcsi", "C1csi"),  # 8-bit CSI
        ("In\u200bdia\u200d US\u2060\ufeff", "India US"),  # zero-width inside Latin words
        ("tag\U000e0041\U000e0042s", "tags"),  # invisible tag characters
        ("soft\u00adhyphen", "softhyphen"),
        ("blank\u3164\uffa0 fill\u115f\u1160er\u2800s", "blank fillers"),  # draw nothing
        ("no\u00a0break\u3000space", "no break space"),
        ("tab\tand\r\nlines\u2028here", "tab and lines here"),
        ("a &xxe; b", "a b"),  # an entity the feed never defined
        ("&#0; &#x110000; ok", "ok"),  # numeric references to no character
        ("AT&amp;T", "AT&T"),  # double-escaped by the feed
        ("fish & chips; AT&T", "fish & chips; AT&T"),  # plain ampersands are text
    ],
)
def test_invisible_and_control_characters_are_removed(raw: str, shown: str) -> None:
    assert untrusted_text(raw) == shown


def test_joiners_that_shape_indic_and_emoji_text_are_kept() -> None:
    assert untrusted_text("नमस्\u200dते") == "नमस्\u200dते"
    assert untrusted_text("क्\u200cष") == "क्\u200cष"
    assert untrusted_text("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"


def test_text_is_composed_in_nfc() -> None:
    assert untrusted_text("Cafe\u0301") == "Café"


def test_a_lone_surrogate_is_dropped_so_the_text_can_be_encoded() -> None:
    assert untrusted_text("bad\ud800text").encode("utf-8") == b"badtext"
