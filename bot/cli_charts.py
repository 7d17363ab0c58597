"""`newsbot chart story KEY` and `newsbot chart topics`: the charts as PNG files (the optional
extra `newsbot[charts]`), written where asked and their path printed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bot.cli_context import BotContext, with_database

_OUT = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The PNG file to write (default: in the current folder).",
)


@click.group()
def chart() -> None:
    """Charts as PNG files: a story's timeline, topic volume (needs newsbot[charts])."""


@chart.command("story")
@click.argument("key")
@_OUT
@click.pass_obj
def chart_story(obj: BotContext, key: str, output: Path | None) -> None:
    """A story's reports over time, one row per outlet."""
    from bot.core.charts import ChartsUnavailable, story_timeline
    from bot.storage.chartdata import story_reports

    found = with_database(obj, obj.config(), lambda s: story_reports(s, key))
    if found is None:
        raise click.ClickException(f"no story `{key}`; `/news latest` lists them")
    headline, reports = found
    try:
        png = story_timeline(headline, reports)
    except ChartsUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or Path(f"story-{key}.png"), png)


@chart.command("topics")
@click.option("--days", type=click.IntRange(1, 365), default=14, show_default=True,
              help="How many days back, today included.")  # fmt: skip
@_OUT
@click.pass_obj
def chart_topics(obj: BotContext, days: int, output: Path | None) -> None:
    """Relevant reports a day per topic."""
    from bot.core.charts import ChartsUnavailable, topic_volume
    from bot.storage.chartdata import topic_days

    until = datetime.now(UTC).date()
    since = until - timedelta(days=days - 1)
    series = with_database(obj, obj.config(), lambda s: topic_days(s, since, until))
    try:
        png = topic_volume(f"Relevant reports a day, {since} to {until} (UTC)", series)
    except ChartsUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or Path(f"topics-{until}.png"), png)


def _write(path: Path, png: bytes) -> None:
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path} ({exc.strerror or exc})") from None
    click.echo(f"wrote {path}")
