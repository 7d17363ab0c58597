"""Progress bars for long work on a terminal (tqdm): the first poll of many feeds, `eval`,
cross-validation folds, bulk config edits. Off when the stream is not a terminal, so logs,
pipes and tests see the plain output they always did."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
Steps = Callable[[Iterable[T]], Iterable[T]]


def bar(
    steps: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    stream: TextIO | None = None,
) -> Iterator[T]:
    """``steps`` unchanged, with a bar on ``stream`` (default stderr) when it is a terminal.

    The bar is cleared when the work ends (``leave=False``): the command's own summary line
    is what stays on the screen.
    """
    out = stream or sys.stderr
    if not _is_terminal(out):
        yield from steps
        return
    yield from tqdm(steps, desc=desc, total=total, unit=unit, file=out, leave=False,
                    dynamic_ncols=True, mininterval=0.2)  # fmt: skip


def bar_of(desc: str, *, unit: str = "it", stream: TextIO | None = None) -> Steps[T]:
    """A wrapper for code below the CLI that takes "how to walk my steps" (storage, the
    evaluator) without knowing about terminals."""

    def wrap(steps: Iterable[T]) -> Iterable[T]:
        sized = steps if isinstance(steps, list | tuple) else list(steps)
        return bar(sized, desc=desc, total=len(sized), unit=unit, stream=stream)

    return wrap


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real file
        return False
