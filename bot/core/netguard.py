"""Which addresses the bot may fetch: private, loopback and link-local ones are refused (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_private(address: IPAddress) -> bool:
    """True for addresses inside an organisation or a machine, never a public news site."""
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


async def addresses_of(host: str, port: int) -> list[IPAddress]:
    """The addresses a host name resolves to (a literal address is itself). Raises OSError."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def private_address_of(host: str, port: int) -> IPAddress | None:
    """The first private address ``host`` is or resolves to; None when all are public."""
    return next((a for a in await addresses_of(host, port) if is_private(a)), None)
