"""Which country an outlet writes from, by its web address (bot/data/outlets.yaml).

Outlets name their own country's services without the country: an Indian daily's "the Army"
is India's. The matcher asks this only when a service is named alone and the text itself
names no government, so the outlet decides nothing the text decides.

Loaded once and validated at start; an error names the file, the line and the fix.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.config import read_data_file

DEFAULT_OUTLETS = Path(__file__).resolve().parents[1] / "data" / "outlets.yaml"


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    side: Literal["us", "india"]
    source: str = Field(min_length=10)
    hosts: list[str] = Field(min_length=1)


class _Outlets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    blocks: list[_Block] = Field(min_length=1)


class Outlets:
    """Host suffix → side; ``side_of(url)`` reads the host and tries its suffixes."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self._hosts = hosts

    def side_of(self, url: str | None) -> str | None:
        """The side of the outlet at ``url``, or None when its country is not known."""
        if not url:
            return None
        # "https://www.thehindu.com/news/..." → "www.thehindu.com" without parsing the rest.
        host = url.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
        return self._side_of_host(host)

    def _side_of_host(self, host: str) -> str | None:
        # "www.thehindu.com", "thehindu.com", "com"; the longest known suffix decides.
        parts = host.split(".")
        for n in range(len(parts)):
            suffix = ".".join(parts[n:])
            side = self._hosts.get(suffix) or self._hosts.get("." + suffix)
            if side is not None:
                return side
        return None


def load_outlets(path: Path = DEFAULT_OUTLETS) -> Outlets:
    """Read and validate an outlet file; failures are ConfigErrors with file:line."""
    return _load(path.resolve())


@lru_cache(maxsize=4)
def _load(path: Path) -> Outlets:
    parsed, _ = read_data_file(
        path, _Outlets, what="outlet knowledge",
        shape="each block needs side (us or india), source and a list of hosts",
    )  # fmt: skip
    hosts: dict[str, str] = {}
    for block in parsed.blocks:
        for host in block.hosts:
            hosts.setdefault(host.lower().removeprefix("www."), block.side)
    return Outlets(hosts)
