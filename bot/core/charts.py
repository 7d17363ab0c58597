"""Small charts as PNG bytes: a story's timeline (its reports over time, by outlet) and the
volume of topics over days. matplotlib is an optional extra (`pip install -e '.[charts]'` in
the checkout) so the default install stays light; without it ``ChartsUnavailable`` says how to
get it.

Rendering is CPU work: call ``render`` (a worker thread), never the drawing functions on the
event loop. Figures are built with the object API and the Agg canvas (no pyplot, whose global
state is not thread-safe). Feed text is drawn as plain text (its ``$`` escaped, no mathtext).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.textsafety import untrusted_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The checkout's own extra: a bare `pip install 'newsbot[charts]'` would fetch whatever the
# package index calls "newsbot", not this project.
INSTALL_HINT = "charts need matplotlib: pip install -e '.[charts]'"
WIDTH, HEIGHT, DPI = 6.4, 3.2, 100  # 640×320 px: readable in a chat thread
MAX_LABEL = 60

T = TypeVar("T")


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed; the message is the one line to show a person."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


async def render(draw: Callable[..., bytes], *args: Any) -> bytes:
    """Run a drawing function in a worker thread (off the event loop)."""
    return await asyncio.to_thread(draw, *args)


def story_timeline(title: str, reports: Sequence[tuple[datetime, str]]) -> bytes:
    """A story's reports as dots over time, one row per outlet (first to report on top)."""
    outlets: list[str] = []
    for _, outlet in sorted(reports):
        if outlet not in outlets:
            outlets.append(outlet)
    fig = _figure()
    ax = fig.add_subplot()
    for row, outlet in enumerate(outlets):
        times = _days([at for at, who in reports if who == outlet])
        ax.scatter(times, [row] * len(times), s=36, zorder=2)
    ax.xaxis_date()
    ax.set_yticks(range(len(outlets)), [_label(o) for o in outlets])
    ax.set_ylim(len(outlets) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(_label(title), fontsize=10)
    ax.set_xlabel("UTC")
    fig.autofmt_xdate()
    return _png(fig)


def topic_volume(title: str, series: Mapping[str, Sequence[tuple[date, int]]]) -> bytes:
    """Reports a day per topic, one line each."""
    fig = _figure()
    ax = fig.add_subplot()
    for topic, points in series.items():
        ordered = sorted(points)
        ax.plot(_days([d for d, _ in ordered]), [n for _, n in ordered], marker="o", ms=3,
                label=_label(topic))  # fmt: skip
    ax.xaxis_date()
    ax.set_ylim(bottom=0)
    ax.set_ylabel("reports a day")
    ax.grid(alpha=0.3)
    ax.set_title(_label(title), fontsize=10)
    if series:
        ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    return _png(fig)


def _days(when: Sequence[date]) -> list[float]:
    from matplotlib.dates import date2num

    return [float(date2num(w)) for w in when]  # type: ignore[no-untyped-call]


def _label(text: str) -> str:
    clean = untrusted_text(text)
    clean = clean if len(clean) <= MAX_LABEL else clean[: MAX_LABEL - 1] + "…"
    # Feed text never becomes mathtext: an escaped "$" draws as itself.
    return clean.replace("$", r"\$")


def _figure() -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsUnavailable() from None
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
