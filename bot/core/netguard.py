"""Which addresses the bot may dial, checked on every connection it makes (SSRF, DNS rebinding).

The check runs in the socket factory aiohttp calls with the address it is about to connect to:
after name resolution (so a name that later resolves somewhere else is caught), for literal
addresses too (aiohttp skips the resolver for those), and for every redirect hop. Which feed a
connection is for travels in a context variable the fetcher sets before each request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata and link-local services: never fetched, whatever a feed is allowed.
ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


def is_private(address: IPAddress) -> bool:
    """True for addresses inside an organisation or a machine, never a public news site."""
    address = _plain(address)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def is_always_refused(address: IPAddress) -> bool:
    address = _plain(address)
    return any(address in net for net in ALWAYS_REFUSED)


def _plain(address: IPAddress) -> IPAddress:
    # ::ffff:169.254.169.254 reaches the IPv4 address: judge it as that.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def same_host(a: str | None, b: str | None) -> bool:
    def norm(h: str | None) -> str:
        return (h or "").strip("[]").rstrip(".").lower()

    return bool(a) and norm(a) == norm(b)


def refusal(
    address: IPAddress, host: str, *, feed_host: str | None, allow_private: bool, feed: str
) -> str | None:
    """Why dialling ``address`` (for ``host``) is refused, in one line; None when it is fine.

    A feed marked ``allow_private`` may reach a private address for its own host only; a
    redirect elsewhere is judged like any other host. Link-local addresses never pass.
    """
    own = same_host(host, feed_host)
    where = f"{host} resolves to {address}" if own else f"the feed redirected to {host} ({address})"
    if is_always_refused(address):
        return f"{where}, a link-local (cloud metadata) address; refused: never fetched"
    if not is_private(address) or (own and allow_private):
        return None
    if not own:
        return (
            f"{where}, a private address; refused: a redirect never leads onto a private "
            "network. Use the feed's final address if it is on your own network"
        )
    return (
        f"{where}, a private address; refused. If this feed is on your own network, an admin "
        f"can allow it: /news admin feeds allow-private {feed} on"
    )


@dataclass(slots=True)
class Dial:
    """What the connections of one fetch may reach; the request in flight sets ``host``."""

    feed: str  # the feed's name, for the fix in a refusal
    feed_host: str | None
    allow_private: bool
    host: str | None = None
    refused: str | None = None
    reading: bool = False  # the answer's headers are in; its body is being read


_DIAL: ContextVar[Dial | None] = ContextVar("newsbot_dial", default=None)


@contextmanager
def dialling(dial: Dial) -> Iterator[Dial]:
    token = _DIAL.set(dial)
    try:
        yield dial
    finally:
        _DIAL.reset(token)


class AddressRefused(OSError):
    """A connection the guard stopped before it was made."""


AddrInfo = tuple[int, int, int, str, tuple[object, ...]]


def guarded_socket(addr_info: AddrInfo) -> socket.socket:
    """aiohttp's ``socket_factory``: a socket for ``addr_info``, or AddressRefused.

    Outside a fetch (no Dial set) nothing private is reached at all.
    """
    family, type_, proto, _, sockaddr = addr_info
    address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
    dial = _DIAL.get()
    if dial is None:
        reason = refusal(address, str(address), feed_host=None, allow_private=False, feed="?")
    else:
        host = dial.host or str(address)
        reason = refusal(
            address,
            host,
            feed_host=dial.feed_host,
            allow_private=dial.allow_private,
            feed=dial.feed,
        )
    if reason is not None:
        if dial is not None:
            dial.refused = reason
        raise AddressRefused(reason)
    return socket.socket(family=family, type=type_, proto=proto)


async def addresses_of(host: str, port: int) -> list[IPAddress]:
    """The addresses a host name resolves to (a literal address is itself). Raises OSError."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def refusal_for(host: str, port: int, *, allow_private: bool, feed: str) -> str | None:
    """The guard's verdict on a feed's own host before it is added (the same policy as on
    each connection): the first refusal among the addresses it resolves to, or None."""
    for address in await addresses_of(host, port):
        reason = refusal(address, host, feed_host=host, allow_private=allow_private, feed=feed)
        if reason is not None:
            return reason
    return None
