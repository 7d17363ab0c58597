"""`newsbot feeds import FILE.opml` and `newsbot feeds export`: feed lists in and out."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli_context import BotContext, with_database


@click.group()
def feeds() -> None:
    """Import feeds from an OPML file, or export them as one."""


@feeds.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Add without asking.")
@click.pass_obj
def feeds_import(obj: BotContext, file: Path, yes: bool) -> None:
    """Add the feeds an OPML FILE lists (from another feed reader), one audited change each
    (`/news admin revert <id>` removes one). Feeds already stored are left as they are."""
    from datetime import UTC, datetime

    from bot.core.opml import OpmlError, read_opml
    from bot.progress import bar_of
    from bot.storage.feedlists import add_feeds, stored_feeds

    cfg = obj.config()
    try:
        listed = read_opml(file.read_bytes())
    except OpmlError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for line in listed.refused:
        click.echo(f"refused {line}", err=True)
    known = {url for _, url in with_database(obj, cfg, stored_feeds)}
    new = [f for f in listed.feeds if f.url not in known]
    if not new:
        click.echo(f"nothing to add: {file} lists {len(listed.feeds)} feeds, all stored already")
        return
    for feed in new:
        click.echo(f"+ feed {feed.name} <{feed.url}>")
    if not yes:
        click.confirm(f"add these {len(new)} feeds?", abort=True)
    pairs = [(f.name, f.url) for f in new]
    added = with_database(
        obj,
        cfg,
        lambda s: add_feeds(
            s, pairs, now=datetime.now(UTC), source=file.name, steps=bar_of("adding", unit="feed")
        ),
    )
    ids = added.audit_ids
    click.echo(
        f"added {len(ids)} feeds (audit #{ids[0]}–#{ids[-1]}); their backlog is stored without "
        "alerting at their first poll; `/news admin revert <id>` removes one"
    )


@feeds.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here instead of standard output.")  # fmt: skip
@click.pass_obj
def feeds_export(obj: BotContext, output: Path | None) -> None:
    """Write the bot's feeds (the database's, paused ones too) as an OPML file."""
    from bot.core.opml import OpmlFeed, write_opml
    from bot.storage.feedlists import stored_feeds

    stored = with_database(obj, obj.config(), stored_feeds)
    document = write_opml(OpmlFeed(name, url) for name, url in stored)
    if output is None:
        click.echo(document.decode(), nl=False)
    else:
        output.write_bytes(document)
        click.echo(f"wrote {output}", err=True)


@feeds.command("find")
@click.argument("url")
@click.option(
    "--allow-private",
    is_flag=True,
    help="The site is on your own network (as `/news admin feeds add --allow-private`).",
)
@click.pass_obj
def feeds_find(obj: BotContext, url: str, allow_private: bool) -> None:
    """Find the feeds a site's page names (<link rel="alternate">), or say URL is a feed.
    Fetched through the same address guard as polls."""
    import asyncio

    from bot.core.discovery import discover
    from bot.core.textsafety import untrusted_text

    cfg = obj.config()
    found = asyncio.run(discover(url, cfg.poll, allow_private=allow_private))
    if found.problem:
        raise click.ClickException(f"{url}: {found.problem}")
    if found.is_feed:
        click.echo(f"{url} is a feed: {found.title or '(untitled)'}")
        return
    click.echo(f"{url} names {len(found.links)} feeds:")
    for link in found.links:
        # A page's links and titles are untrusted: no terminal escapes reach the screen.
        click.echo(f"  {untrusted_text(link.url)}  {untrusted_text(link.title)}".rstrip())
