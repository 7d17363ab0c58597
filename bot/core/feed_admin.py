"""Admin commands on feeds: list, add (with the address guard), allow onto a private network.

Changes go through :meth:`Admin.change`, so each is audited and can be reverted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.core.models import AuditEntry, FeedHealth, FeedListing, Reply, ReplyField, UserRef
from bot.core.netguard import refusal_for
from bot.core.usage import UsageError, unknown
from bot.storage import admin as store
from bot.storage.db import Tx

if TYPE_CHECKING:
    from bot.core.admin import Admin

ALLOW_PRIVATE = "--allow-private"


async def refuse_private_address(url: str, *, allow_private: bool, feed: str = "") -> None:
    """Refuse a URL the fetcher's guard would refuse: the same policy, checked before the feed
    is saved so the admin hears it now rather than at the first poll."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"`{url}` is not an http:// or https:// address")
    host = parts.hostname
    try:
        reason = await refusal_for(host, parts.port or 443, allow_private=allow_private, feed=feed)
    except OSError:
        raise UsageError(f"cannot resolve `{host}`; check the address") from None
    if reason is not None:
        if not allow_private and "allow-private" in reason:
            # Not saved yet: the fix is the add command's flag.
            reason = reason.split(". If this feed", 1)[0] + (
                f". If this feed is on your own network, add it with {ALLOW_PRIVATE}"
            )
        raise UsageError(reason)


def _state_line(row: FeedListing) -> str:
    last = row.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_success_at else "never"
    if row.paused and row.health == FeedHealth.GONE and row.last_error:
        return (
            f"stopped: {row.last_error}; resume with `/news admin feeds resume {row.id}`, "
            f"last fetched {last}"
        )
    state = "paused" if row.paused else row.health
    error = f"; last error: {row.last_error}" if row.last_error and not row.paused else ""
    private = "; allowed on a private network" if row.allow_private else ""
    return f"{state}{private}, last fetched {last}{error}"


async def feeds_list(admin: Admin) -> Reply:
    rows = await admin.db.run(store.feeds)
    fields = tuple(ReplyField(f"{r.id}. {r.name}", f"{r.url}\n{_state_line(r)}") for r in rows)
    return Reply(text=f"{len(rows)} feeds.", fields=fields)


async def feeds_add(admin: Admin, user: UserRef, url: str, name: str) -> Reply:
    words = name.split()
    allow_private = any(w.lower() == ALLOW_PRIVATE for w in words)
    name = " ".join(w for w in words if w.lower() != ALLOW_PRIVATE)
    poll = await admin.db.run(lambda s: admin.live(s).poll)
    if await admin.db.run(lambda s: store.feed_by_url(s, url)) is not None:
        raise UsageError(f"`{url}` is already a feed")
    await refuse_private_address(url, allow_private=allow_private)
    probe = await admin.hooks.probe_feed(url, poll, allow_private=allow_private)
    if not probe.ok:
        raise UsageError(f"not added: {probe.problem}")
    page, url = url, probe.found or url
    if probe.found and await admin.db.run(lambda s: store.feed_by_url(s, url)) is not None:
        raise UsageError(f"`{page}` names the feed `{url}`, which is already a feed")
    title = (name or probe.title or urlsplit(url).hostname or url)[:200]
    state = {
        "url": url,
        "name": title,
        "comment": f"added from chat by {user.name or user.user}",
        "paused": False,
        "alert_on_first_poll": False,
        "allow_private": allow_private,
    }
    entry = await admin.db.run(
        lambda s: admin.change(s, user, "feeds.add", store.feed_key(url), state)
    )
    assert entry is not None
    private = " It may reach its own host on a private network." if allow_private else ""
    found = (
        f" Found at {url} (named by the page {page})"
        + (f"; it also names {', '.join(probe.others[:3])}." if probe.others else ".")
        if probe.found
        else ""
    )
    return Reply(
        text=f"Added feed **{title}** ({probe.items} items now; its backlog is stored "
        f"without alerting).{found}{private} Audit #{entry.id}.",
        ephemeral=False,
    )


async def feeds_allow_private(admin: Admin, user: UserRef, ref: str, state: str) -> Reply:
    allow = state.lower() == "on"

    def write(s: Tx) -> tuple[str, AuditEntry | None]:
        feed = store.find_feed(s, ref)
        if feed is None:
            raise unknown("feed", ref, [f.name for f in store.feeds(s)])
        entity = store.feed_key(feed.url)
        before = store.snapshot(s, entity)
        assert before is not None
        new = {**before, "allow_private": allow}
        return feed.name, admin.change(s, user, "feeds.allow-private", entity, new)

    name, entry = await admin.db.run(write)
    if entry is None:
        return Reply(text=f"Feed **{name}** already has allow-private {state.lower()}.")
    what = (
        "may now reach its own host on a private network (redirects elsewhere stay guarded)"
        if allow
        else "is guarded like any other: private addresses are refused"
    )
    return Reply(
        text=f"Feed **{name}** {what}. Audit #{entry.id}; undo with "
        f"`/news admin revert {entry.id}`.",
        ephemeral=False,
    )
