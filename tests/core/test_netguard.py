"""The address policy: private, loopback and link-local addresses, and who may reach them."""

from __future__ import annotations

import ipaddress

import pytest

from bot.core.netguard import AddressRefused, Dial, dialling, guarded_socket, is_private, refusal


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
        ("::ffff:10.0.0.5", True),  # IPv4-mapped: reaches 10.0.0.5
        ("93.184.216.34", False),
        ("2606:4700::1111", False),
    ],
)
def test_which_addresses_are_private(address: str, private: bool) -> None:
    assert is_private(ipaddress.ip_address(address)) is private


def verdict(address: str, host: str, feed_host: str, allow_private: bool) -> str | None:
    return refusal(
        ipaddress.ip_address(address),
        host,
        feed_host=feed_host,
        allow_private=allow_private,
        feed="Intranet",
    )


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"],
)
def test_metadata_addresses_are_refused_even_for_an_allowed_feed(address: str) -> None:
    reason = verdict(address, address, address, allow_private=True)
    assert reason is not None and "link-local (cloud metadata) address; refused" in reason


def test_a_private_address_is_refused_with_the_fix_named() -> None:
    reason = verdict("10.0.0.5", "intranet.example", "intranet.example", allow_private=False)
    assert reason == (
        "intranet.example resolves to 10.0.0.5, a private address; refused. If this feed is "
        "on your own network, an admin can allow it: /news admin feeds allow-private Intranet on"
    )


def test_an_allowed_feed_reaches_private_addresses_of_its_own_host_only() -> None:
    assert verdict("10.0.0.5", "Intranet.Example.", "intranet.example", allow_private=True) is None
    elsewhere = verdict("10.0.0.6", "other.example", "intranet.example", allow_private=True)
    assert elsewhere is not None
    assert elsewhere.startswith("the feed redirected to other.example (10.0.0.6), a private")


def test_public_addresses_pass_for_any_host() -> None:
    assert verdict("93.184.216.34", "news.example", "feed.example", allow_private=False) is None


def test_the_socket_factory_refuses_before_any_socket_exists() -> None:
    info = (2, 1, 6, "", ("169.254.169.254", 80))
    dial = Dial("Intranet", "169.254.169.254", allow_private=True, host="169.254.169.254")
    with dialling(dial), pytest.raises(AddressRefused, match="cloud metadata"):
        guarded_socket(info)
    assert dial.refused is not None and "169.254.169.254" in dial.refused
    # Outside any fetch nothing private is reachable either.
    with pytest.raises(AddressRefused):
        guarded_socket((2, 1, 6, "", ("127.0.0.1", 80)))
