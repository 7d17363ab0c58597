"""Charts as PNG: drawn off the event loop, hostile text drawn as text, and without
matplotlib a one-line hint (checked in a subprocess where matplotlib cannot be imported)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.charts import INSTALL_HINT, render, story_timeline, topic_volume

pytest.importorskip("matplotlib", reason="the charts extra (pip install -e '.[charts]') is absent")
Image = pytest.importorskip("PIL.Image", reason="pillow comes with matplotlib; absent here")

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
REPORTS = [(T0, "The Hindu"), (T0 + timedelta(hours=3), "ThePrint"),
           (T0 + timedelta(hours=5), "The Hindu"), (T0 + timedelta(days=1), "Reuters")]  # fmt: skip


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as img:
        return img.size


def test_a_story_timeline_is_a_png_of_chat_size() -> None:
    assert _size(story_timeline("India, US sign defence framework", REPORTS)) == (640, 320)


def test_a_topic_volume_chart_differs_with_its_data() -> None:
    days = [date(2026, 11, d) for d in range(20, 27)]
    one = topic_volume("Last week", {"diplomacy": [(d, i) for i, d in enumerate(days)]})
    two = topic_volume("Last week", {"diplomacy": [(d, 7 - i) for i, d in enumerate(days)],
                                     "trade-tensions": [(d, 2) for d in days]})  # fmt: skip
    assert _size(one) == _size(two) == (640, 320)
    assert one != two


def test_feed_text_with_mathtext_and_escapes_is_drawn_as_text() -> None:
    # Unescaped, each of these is a mathtext error and the render would raise.
    for hostile in ("Gold at $2,000 ^_^ and $x_{", "Price $5 ^^ to $6 \x1b[2J\u202e",
                    "a $\\undefinedmacro$ b", "$^$"):  # fmt: skip
        png = story_timeline(hostile, [(T0, hostile), (T0 + timedelta(hours=1), "$$")])
        assert _size(png) == (640, 320)
        png = topic_volume(hostile, {hostile: [(date(2026, 11, 20), 1)]})
        assert _size(png) == (640, 320)


async def test_render_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def draw(title: str) -> bytes:
        seen.append(threading.get_ident())
        return story_timeline(title, REPORTS)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    png = await render(draw, "timeline")
    task.cancel()
    assert seen and seen[0] != loop_thread
    assert ticks > 1  # the loop kept running while the chart was drawn
    assert _size(png) == (640, 320)


def test_without_matplotlib_the_hint_says_how_to_install() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # as if the extra were not installed
        "from bot.core.charts import ChartsUnavailable, charts_available, topic_volume\n"
        "assert not charts_available()\n"
        "try:\n    topic_volume('x', {})\nexcept ChartsUnavailable as exc:\n    print(exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == INSTALL_HINT
    assert "pip install -e '.[charts]'" in INSTALL_HINT
