"""A config file loads, and every broken one is named by file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_duration, parse_size
from bot.settings import DEFAULT_CONFIG


def test_the_shipped_config_is_valid_and_has_the_nine_topics() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    assert [t.id for t in cfg.topics] == [
        "framework-agreement",
        "defence-industry",
        "military-exercises",
        "logistics-intel",
        "emerging-tech",
        "indo-pacific",
        "diplomacy",
        "trade-tensions",
        "visa-immigration",
    ]
    assert cfg.feeds and all(f.comment for f in cfg.feeds)
    assert cfg.poll.interval == 900
    assert cfg.poll.max_age == 3 * 86400  # "3d", documented next to the other poll settings


BROKEN = [
    ("not yaml", "poll:\n  interval: [15m\n", 3, "not valid YAML"),
    ("unknown key", "poll:\n  intervl: 15m\ntopics: []\n", 2, "poll.intervl: unknown setting"),
    ("bad duration", "poll:\n  interval: soon\n", 2, "'soon' is not a duration"),
    ("bad url", "feeds:\n  - name: x\n    url: not a url\n", 3, "feeds.0.url"),
    ("missing name", "feeds:\n  - url: https://example.org/rss\n", 2, "feeds.0.name"),
    ("top level list", "- a\n- b\n", 1, "top level must be a mapping"),
    ("no topics", "poll:\n  interval: 5m\n", None, "topics: required setting is missing"),
]


@pytest.mark.parametrize(("case", "text", "line", "problem"), BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_file_names_the_file_line_and_fix(
    tmp_path: Path, case: str, text: str, line: int | None, problem: str
) -> None:
    path = tmp_path / "newsbot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    err = caught.value
    assert err.path == path
    if line is not None:
        assert err.line == line
    assert problem in str(err)
    assert str(path) in str(err) and "Fix:" in str(err)


def test_a_missing_file_says_how_to_choose_another(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSBOT_CONFIG"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("1d", 86400.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "size"), [(1024, 1024), ("5MB", 5_000_000), ("512KiB", 524288)])
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size
