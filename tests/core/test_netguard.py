"""Private, loopback and link-local addresses are recognised, and redirects onto them refused."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest
from aiohttp import TraceRequestRedirectParams
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.core.fetch import RedirectRefused, _refuse_private_redirect
from bot.core.netguard import is_private, private_address_of


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.10", True),
        ("169.254.169.254", True),  # cloud metadata
        ("::1", True),
        ("fe80::1", True),
        ("0.0.0.0", True),
        ("93.184.216.34", False),
        ("2606:4700::1111", False),
    ],
)
def test_which_addresses_are_private(address: str, private: bool) -> None:
    assert is_private(ipaddress.ip_address(address)) is private


async def test_a_literal_address_needs_no_lookup() -> None:
    assert str(await private_address_of("169.254.169.254", 80)) == "169.254.169.254"
    assert await private_address_of("93.184.216.34", 80) is None


def _redirect(from_url: str, location: str) -> TraceRequestRedirectParams:
    # The hook reads only the redirect response's headers; a real response needs a socket.
    response: object = SimpleNamespace(headers=CIMultiDictProxy(CIMultiDict(Location=location)))
    return TraceRequestRedirectParams("GET", URL(from_url), CIMultiDict(), response)  # type: ignore[arg-type]


async def test_a_public_site_redirecting_to_a_private_address_is_refused() -> None:
    params = _redirect("http://93.184.216.34/rss", "http://169.254.169.254/latest/meta-data")
    with pytest.raises(RedirectRefused, match=r"169\.254\.169\.254"):
        await _refuse_private_redirect(None, None, params)  # type: ignore[arg-type]


async def test_a_private_feed_may_redirect_within_its_network() -> None:
    params = _redirect("http://127.0.0.1:8080/old.xml", "/new.xml")
    await _refuse_private_redirect(None, None, params)  # type: ignore[arg-type]


async def test_a_public_redirect_to_a_public_address_is_followed() -> None:
    params = _redirect("http://93.184.216.34/rss", "http://93.184.216.35/rss")
    await _refuse_private_redirect(None, None, params)  # type: ignore[arg-type]
