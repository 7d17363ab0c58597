"""Progress bars: drawn on a real terminal (a pseudo-terminal here), absent from pipes and
files, and the work's own output unchanged either way."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.config import load_config
from bot.evaluation import run_eval
from bot.progress import bar, bar_of
from bot.settings import DEFAULT_CONFIG

DEV = Path(__file__).resolve().parent / "testdata" / "eval" / "dev.jsonl"


@contextmanager
def terminal() -> Iterator[tuple[TextIO, list[bytes]]]:
    """A text stream on a pseudo-terminal's slave end; what was drawn is read off the master."""
    master, slave = pty.openpty()
    # A terminal 100 columns wide, as a person's would be (a fresh pty has no size).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    drawn: list[bytes] = []
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        yield stream, drawn
        stream.flush()
        os.set_blocking(master, False)
        while True:
            try:
                chunk = os.read(master, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            drawn.append(chunk)
    finally:
        stream.close()
        os.close(master)


def test_a_bar_is_drawn_on_a_terminal_and_the_steps_pass_through() -> None:
    with terminal() as (stream, drawn):
        assert list(bar(range(50), desc="polling", unit="feed", stream=stream)) == list(range(50))
    shown = b"".join(drawn).decode()
    assert "polling:   0%" in shown and "0/50" in shown


def test_no_bar_off_a_terminal() -> None:
    stream = io.StringIO()
    assert list(bar_of("applying", stream=stream)(iter([1, 2, 3]))) == [1, 2, 3]
    assert stream.getvalue() == ""


def test_eval_shows_its_progress_on_a_terminal_only() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    piped_out, piped_err = io.StringIO(), io.StringIO()
    assert run_eval(DEV, None, True, cfg, out=piped_out, err=piped_err) == 0
    assert piped_err.getvalue() == ""
    items = sum(1 for line in DEV.read_text().splitlines() if line.strip())
    out = io.StringIO()
    with terminal() as (err, drawn):
        assert run_eval(DEV, None, True, cfg, out=out, err=err) == 0
    shown = b"".join(drawn).decode()
    assert "eval:   0%" in shown and f"0/{items}" in shown
    assert out.getvalue() == piped_out.getvalue()  # the figures are the same
