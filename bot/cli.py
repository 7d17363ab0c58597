"""The `newsbot` command line: run, poll, demo, config, db (and eval, console)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from bot.cli_charts import chart
from bot.cli_context import BotContext, on_signal, until_stopped, with_database
from bot.cli_feeds import feeds
from bot.config import AppConfig, load_config
from bot.core.configdiff import describe
from bot.logs import LEVELS, LogFormat, setup_logging
from bot.settings import Settings, environment_variables
from bot.storage.db import describe_database

if TYPE_CHECKING:
    from bot.app import NewsBot
    from bot.storage.configsync import EntityChange


logger = logging.getLogger("bot")


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="NEWSBOT_CONFIG",
    help="Config file (default: config/newsbot.yaml; env NEWSBOT_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help="How much to log (default INFO; env NEWSBOT_LOG_LEVEL).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="NEWSBOT_LOG_FORMAT",
    show_default=True,
    help="text for a terminal, json (one object per line) for a log collector "
    "(env NEWSBOT_LOG_FORMAT).",
)
@click.version_option(package_name="newsbot")
@click.pass_context
def main(
    ctx: click.Context, config_path: Path | None, log_level: str | None, log_format: LogFormat
) -> None:
    """newsbot: follow-ups on US–India defence ties, grouped into stories, posted to chat."""
    try:
        settings = Settings()
    except Exception as exc:
        raise click.ClickException(f"bad environment setting: {exc}") from None
    if config_path is not None:
        settings = settings.model_copy(update={"config": config_path})
    level = (log_level or settings.log_level).upper()
    if level not in LEVELS:
        raise click.ClickException(
            f"NEWSBOT_LOG_LEVEL={settings.log_level!r} is not a log level; "
            f"use one of {', '.join(LEVELS)}"
        )
    setup_logging(level, log_format)
    ctx.obj = BotContext(settings)


@main.command()
@click.option(
    "--role",
    type=click.Choice(["all", "ingest", "deliver", "chat"]),
    default="all",
    envvar="NEWSBOT_ROLE",
    show_default=True,
    help="What this process does: ingest (poll, match, plan), deliver (outbox, digests), "
    "chat (one connection per platform, commands), or all. Digests and each platform's "
    "connection run in one process at a time, chosen by a lease (env NEWSBOT_ROLE).",
)
@click.pass_obj
def run(obj: BotContext, role: str) -> None:
    """Run the bot until Ctrl-C: poll on schedule, post alerts, answer commands."""
    from bot.roles import SharingRefused, expand

    cfg = obj.config()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(obj.settings, cfg, expand(role)))
    except SharingRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("newsbot stopped.", err=True)


async def _run(settings: Settings, cfg: AppConfig, roles: frozenset[str]) -> None:
    # The app (and the platform libraries) load only for commands that run the bot.
    from bot.app import open_bot

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, stop)
    logger.info("database: %s", describe_database(settings.database_url))
    bot = await open_bot(settings, cfg)
    try:
        await _warn_of_drift(bot, settings)
        if not await until_stopped(bot.start(roles), stop):
            return
        await bot.start_health(settings.health_host, settings.health_port, polls="ingest" in roles)
        logger.info(
            "newsbot running (%s): %d feeds every %ss, adapters: %s. Ctrl-C stops.",
            ", ".join(sorted(roles)),
            len(bot.cfg.feeds),
            int(bot.cfg.poll.interval),
            ", ".join(f"{n} ({st})" for n, (st, _) in bot.adapter_states().items()) or "none",
        )
        await stop.wait()
        logger.info("stopping: letting the current cycle finish")
    finally:
        await bot.close()


async def _warn_of_drift(bot: NewsBot, settings: Settings) -> None:
    """The file is read once, to seed the database; later edits to it change nothing until
    applied. Say so at start rather than leave an operator wondering."""
    from bot.storage.configsync import differences

    file_cfg = load_config(settings.config)
    drift = await bot.db.run(lambda s: differences(s, file_cfg))
    if drift:
        shown = "; ".join(describe(c.entity, c.before, c.after) for c in drift[:3])
        more = f"; and {len(drift) - 3} more" if len(drift) > 3 else ""
        logger.warning(
            "%s differs from the database in %d places (%s%s); the database is what runs. "
            "`newsbot config diff` shows them, `newsbot config apply` applies the file",
            settings.config,
            len(drift),
            shown,
            more,
        )


@main.command()
@click.option("--once", is_flag=True, help="Run one poll cycle and exit (required).")
@click.option("--force", is_flag=True, help="Poll every feed, even those not yet due.")
@click.pass_obj
def poll(obj: BotContext, once: bool, force: bool) -> None:
    """Run one poll cycle (fetch, match, group, deliver) and exit: `newsbot poll --once`.
    To poll on schedule, `newsbot run`."""
    if not once:
        raise click.UsageError(
            "`newsbot poll` runs one cycle: add --once. To poll on schedule (posting alerts and "
            "answering commands), use `newsbot run`."
        )
    cfg = obj.config()
    asyncio.run(_poll_once(obj.settings, cfg, force))


async def _poll_once(settings: Settings, cfg: AppConfig, force: bool) -> None:
    from bot.app import open_bot

    bot: NewsBot = await open_bot(settings, cfg)
    try:
        await bot.start_adapters()
        report = await bot.pipeline.run_cycle(force=force)
        failed = sum(1 for o in report.outcomes if o.status == "failed")
        click.echo(
            f"polled {len(report.outcomes)} feeds ({failed} failed): {report.new_items} new "
            f"items, {report.relevant} relevant, {report.flush.posted} alerts posted, "
            f"{report.flush.updated} updated."
        )
    finally:
        await bot.close()


@main.command()
@click.pass_obj
def demo(obj: BotContext) -> None:
    """Serve feeds of real labelled items on 127.0.0.1 and run two poll cycles against them."""
    from bot.demo.run import run_demo

    cfg = obj.config()
    asyncio.run(run_demo(cfg, sys.stdout))


@main.command()
@click.option("--user", default="console-user", show_default=True, help="Who types the commands.")
@click.option("--channel", default=None, help="Where they are typed (default: console channel).")
@click.option("--admin", is_flag=True, help="Type as an admin (admin commands allowed).")
@click.option("--poll", is_flag=True, help="Also poll feeds on schedule and print the alerts.")
@click.option(
    "--prompt/--no-prompt",
    default=None,
    help="Show a ready line and a `news> ` prompt (default: when stdin is a terminal).",
)
@click.pass_obj
def console(
    obj: BotContext, user: str, channel: str | None, admin: bool, poll: bool, prompt: bool | None
) -> None:
    """Read `/news …` lines from standard input and print the replies (and alerts with --poll).

    A line may start with `--as user@channel` and/or `--admin` to speak as someone else.
    Ctrl-D or Ctrl-C quits.
    """
    from bot.repl import run_console

    cfg = obj.config()
    show_prompt = sys.stdin.isatty() if prompt is None else prompt
    try:
        failed = asyncio.run(run_console(obj.settings, cfg, user=user, channel=channel,
                                         admin=admin, poll=poll, stdin=sys.stdin,
                                         out=sys.stdout, prompt=show_prompt))  # fmt: skip
    except KeyboardInterrupt:
        # Ctrl-C is how a person leaves: a new line for the shell's prompt, no "Aborted!".
        click.echo(err=True)
        sys.exit(130)
    sys.exit(1 if failed else 0)


@main.group()
def config() -> None:
    """Check, compare, apply or export the configuration."""


@config.command("check")
@click.pass_obj
def config_check(obj: BotContext) -> None:
    """Validate the config file (values and their ranges, as the chat commands check them)
    and report every problem with its line."""
    from bot.core.matching import Matcher, MatchingError

    try:
        cfg = obj.config()
    except click.ClickException as exc:
        problems = exc.message.splitlines()
        if len(problems) < 2:
            raise
        raise click.ClickException("\n".join([f"{len(problems)} problems:", *problems])) from None
    try:
        # The knowledge files, and topic ids named in matching:, are checked as the matcher loads.
        Matcher.from_config(cfg)
    except MatchingError as exc:
        raise click.ClickException(f"{obj.settings.config}: {exc}") from None
    click.echo(
        f"{obj.settings.config}: OK ({len(cfg.feeds)} feeds, {len(cfg.topics)} topics, "
        f"poll every {int(cfg.poll.interval)}s)"
    )


@config.command("diff")
@click.pass_obj
def config_diff(obj: BotContext) -> None:
    """Show how the config file differs from the database (what `config apply` would do)."""
    changes = _file_changes(obj, obj.config())
    if not changes:
        click.echo(f"the database matches {obj.settings.config}")
        return
    click.echo(f"{len(changes)} differences ({obj.settings.config} against the database):")
    for change in changes:
        click.echo(describe(change.entity, change.before, change.after))


@config.command("apply")
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.pass_obj
def config_apply(obj: BotContext, yes: bool) -> None:
    """Make the database match the config file, one audited change per feed, topic or
    setting (`/news admin revert <id>` undoes one). Feeds an admin paused stay paused."""
    from datetime import UTC, datetime

    from bot.progress import Steps, bar_of
    from bot.storage.configsync import apply_file

    cfg = obj.config()
    changes = _file_changes(obj, cfg)
    if not changes:
        click.echo(f"nothing to apply: the database matches {obj.settings.config}")
        return
    for change in changes:
        click.echo(describe(change.entity, change.before, change.after))
    if not yes:
        click.confirm(f"apply these {len(changes)} changes?", abort=True)
    steps: Steps[EntityChange] = bar_of("applying", unit="change")
    ids = with_database(obj, cfg, lambda s: apply_file(s, cfg, now=datetime.now(UTC), steps=steps))
    click.echo(
        f"applied {len(ids)} changes (audit #{ids[0]}–#{ids[-1]}); a running bot uses them "
        "from its next cycle; `/news admin revert <id>` undoes one"
    )


def _file_changes(obj: BotContext, cfg: AppConfig) -> list[EntityChange]:
    from bot.storage.configsync import differences

    return with_database(obj, cfg, lambda s: differences(s, cfg))


@config.command("export")
@click.pass_obj
def config_export(obj: BotContext) -> None:
    """Write the live config (the database's, with chat edits) as YAML to standard output."""
    from bot.storage.configstore import load_runtime

    click.echo(dump_config(with_database(obj, obj.config(), load_runtime)), nl=False)


def dump_config(cfg: AppConfig) -> str:
    data: dict[str, Any] = cfg.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: BotContext) -> None:
    """Create the database or bring its schema up to date."""
    from bot.storage.db import Database

    Database.open(obj.settings.database_url).close()
    click.echo("database schema is up to date")


@main.command("eval")
@click.argument("items", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--predictions", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write one JSON prediction a line here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--title-only", is_flag=True,
              help="Summaries removed; articles served from loopback, made of them.")  # fmt: skip
@click.option("--folds", type=click.IntRange(2, 20), default=None,
              help="Cross-validate: thresholds tuned on the other folds (whole "
                   "stories), each fold predicted with them; and the stress test.")  # fmt: skip
@click.option("--leave-one-topic-out", "topic_out", is_flag=True,
              help="Each topic's items matched without that topic's own actor data.")  # fmt: skip
@click.pass_obj
def eval_cmd(
    obj: BotContext, items: Path, predictions: Path | None, as_json: bool, title_only: bool,
    folds: int | None, topic_out: bool,
) -> None:  # fmt: skip
    """Run the live matcher and grouper over labelled ITEMS.jsonl and print the figures."""
    from bot.core.matching import MatchingError
    from bot.crossval import run_study
    from bot.evaluation import run_eval
    from bot.title_only_eval import run_title_only_eval

    studies = [name for name, on in (("--title-only", title_only), ("--folds", folds),
                                     ("--leave-one-topic-out", topic_out)) if on]  # fmt: skip
    if len(studies) > 1:
        raise click.UsageError(f"{' and '.join(studies)} are separate runs; give one")
    if studies and predictions is not None:
        raise click.UsageError(f"--predictions is not available with {studies[0]}; drop one")
    try:
        if folds or topic_out:
            code = run_study(items, obj.config(), folds=folds, leave_one_topic_out=topic_out)
        elif title_only:
            code = run_title_only_eval(items, as_json, obj.config())
        else:
            code = run_eval(items, predictions, as_json, obj.config())
    except MatchingError as exc:
        raise click.ClickException(f"{obj.settings.config}: {exc}") from None
    sys.exit(code)


def _mention_environment(command: click.Command) -> None:
    """Every `--help` lists the environment variables the program reads (a command's own
    options name theirs beside the option)."""
    names = [*environment_variables(), "NEWSBOT_LOG_FORMAT"]
    command.epilog = "\b\nEnvironment variables read:\n  " + "\n  ".join(names)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _mention_environment(sub)


main.add_command(feeds)
main.add_command(chart)
_mention_environment(main)


if __name__ == "__main__":
    main()
