"""A DNS for tests: host names answer with the loopback addresses a test chooses.

It is handed to the Fetcher as aiohttp's resolver (an outside-world dependency), so a test can
make a public-looking name resolve to 127.0.0.1 (DNS rebinding) without leaving the machine.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult


class MapResolver(AbstractResolver):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = {k.lower(): v for k, v in names.items()}
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        address = self.names.get(host.lower().rstrip("."))
        if address is None:
            raise OSError(socket.EAI_NONAME, f"{host} is not in the test DNS")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None
