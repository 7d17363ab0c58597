"""`newsbot feeds import/export`: an OPML file's feeds added with one audit entry each (and
revertible from chat), the stored feeds written back as OPML; on a real SQLite file."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.opml import read_opml
from bot.storage import audit
from bot.storage.db import Database
from tests.feedserver import FeedServer

OPML = Path(__file__).resolve().parent / "testdata" / "opml"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    # The shipped config seeds the database; nothing is fetched (no poll runs here).
    return {"NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "SLACK_BOT_TOKEN": None, "DISCORD_TOKEN": None}  # fmt: skip


def invoke(env: dict[str, str | None], *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_import_adds_new_feeds_audited_and_export_lists_them(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    code, out = invoke(env, "feeds", "import", str(OPML / "schemes.opml"), "--yes")
    assert code == 0, out
    assert "refused file:///etc/passwd: only http:// and https:// feeds are added" in out
    assert "+ feed Good <https://news.example.org/rss.xml>" in out
    assert "added 2 feeds (audit #" in out

    db = Database.open(str(env["NEWSBOT_DATABASE_URL"]))
    try:
        entries = db.transaction(lambda s: audit.latest(s, 5))
        targets = {(e.action, e.target, e.user_name) for e in entries}
    finally:
        db.close()
    assert ("feeds import", "feed:https://news.example.org/rss.xml", "OPML import") in targets

    # Imported again: nothing new, nothing changed.
    code, out = invoke(env, "feeds", "import", str(OPML / "schemes.opml"), "--yes")
    assert code == 0 and "nothing to add" in out

    exported = tmp_path / "out.opml"
    code, out = invoke(env, "feeds", "export", "-o", str(exported))
    assert code == 0, out
    urls = [f.url for f in read_opml(exported.read_bytes()).feeds]
    assert "https://news.example.org/rss.xml" in urls and "http://evil.example.net/feed" in urls
    assert len(urls) == 12 + 2  # the shipped config's feeds, then the imported ones


def test_an_imported_feed_is_reverted_from_chat(env: dict[str, str | None]) -> None:
    code, out = invoke(env, "feeds", "import", str(OPML / "netnewswire.opml"), "--yes")
    assert code == 0, out
    added = [line.split("<")[1].rstrip(">") for line in out.splitlines() if line.startswith("+ ")]
    first = out.split("audit #")[1].split("–")[0]
    lines = f"/news admin feeds list\n/news admin revert {first}\n/news admin feeds list\n"
    code, out = invoke(env, "console", "--admin", input=lines)
    assert code == 0, out
    assert f"Reverted #{first}" in out
    _, before, after = out.split("/news admin feeds list")
    assert added and all(url in before for url in added)
    assert added[0] not in after and all(url in after for url in added[1:])


def test_import_asks_before_adding_and_refuses_a_hostile_file(env: dict[str, str | None]) -> None:
    code, out = invoke(env, "feeds", "import", str(OPML / "netnewswire.opml"), input="n\n")
    assert code == 1 and "+ feed ThePrint <https://theprint.in/feed/>" in out
    assert "feeds? [y/N]: n" in out
    code, out = invoke(env, "feeds", "export")
    assert "https://theprint.in/feed/" not in out  # answered no: nothing added
    code, out = invoke(env, "feeds", "import", str(OPML / "billion-laughs.opml"))
    assert code == 1
    assert "billion-laughs.opml: the file declares XML entities" in out
    assert "Traceback" not in out


async def test_feeds_find_names_a_sites_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    feed = feed_server.add_feed("rss.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    page = (
        '<html><head><link rel="alternate" type="application/rss+xml" title="All" href="rss.xml">'
    )
    site = feed_server.set_response("/news/", body=page, content_type="text/html")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["NEWSBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"

    async def find(*args: str) -> tuple[int | None, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "feeds", "find", *args, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        return proc.returncode, out.decode()

    code, out = await find(site, "--allow-private")
    assert code == 0, out
    assert f"{site} names 1 feeds:\n  {feed_server.url('/news/rss.xml')}  All" in out
    code, out = await find(feed, "--allow-private")
    assert code == 0 and f"{feed} is a feed: Fixture News" in out
    code, out = await find(site)  # loopback without the flag: the guard refuses
    assert code == 1 and "Traceback" not in out
