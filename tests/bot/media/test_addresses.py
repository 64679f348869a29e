"""Which addresses, hosts and links count as public: pure functions, no network."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from bot.media.addresses import (
    is_public_address,
    is_public_host,
    is_public_https_link,
    looks_like_address,
    parse_address,
)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("2a00:1450:4001:80b::200e", True),
        ("::ffff:93.184.216.34", True),  # IPv4-mapped public address
        ("2002:5db8:d822::1", True),  # 6to4 of 93.184.216.34
        ("64:ff9b::5db8:d822", True),  # NAT64 of 93.184.216.34
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("::1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("10.255.255.255", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("169.254.0.1", False),
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("fc00::1", False),
        ("fdff:ffff::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("febf::1", False),
        ("fec0::1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("100.127.255.255", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("ff02::1", False),
        ("ff0e::1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("192.0.0.8", False),
        ("192.0.2.1", False),  # documentation
        ("198.51.100.7", False),
        ("203.0.113.9", False),
        ("198.18.0.1", False),  # benchmarking
        ("2001:db8::1", False),  # documentation
        ("3fff::1", False),
        ("2001::1", False),  # Teredo
        ("100::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:192.168.0.1", False),
        ("::127.0.0.1", False),  # deprecated IPv4-compatible form
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b:1::1", False),  # local-use NAT64
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(ip_address(address)) is public


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.0.0.1", "10.0.0.1"), ("::1", "::1"), ("fe80::1%eth0", "fe80::1%eth0")],
)
def test_parse_address(text: str, expected: str) -> None:
    assert str(parse_address(text)) == expected


@pytest.mark.parametrize("text", ["example.com", "127.1", "2130706433", "0x7f000001", "", "1.2.3"])
def test_parse_address_refuses_names_and_legacy_forms(text: str) -> None:
    assert parse_address(text) is None


@pytest.mark.parametrize(
    ("host", "literal"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("2130706433", True),
        ("0x7f000001", True),
        ("0x7f.1", True),
        ("127.1", True),
        ("10.0.0.1.", True),
        ("cdn.example.com", False),
        ("1password.com", False),
        ("0xdeadbeef.example.net", False),
        ("x.0xz", False),
    ],
)
def test_what_counts_as_a_literal_address(host: str, literal: bool) -> None:
    assert looks_like_address(host) is literal


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("cdn.runcomfy.net", True),
        ("storage.googleapis.com", True),
        ("cdn.example.com.", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("localhost", False),
        ("LOCALHOST", False),
        ("localhost.", False),
        ("foo.localhost", False),
        ("printer.local", False),
        ("metadata.google.internal", False),
        ("router.home.arpa", False),
        ("box.localdomain", False),
        ("intranet", False),
        ("a..b", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("2130706433", False),
        ("0x7f000001", False),
        ("127.1", False),
        ("0177.0.0.1", False),
        ("1.2.3.4.5", False),
    ],
)
def test_host_classification(host: str, public: bool) -> None:
    assert is_public_host(host) is public


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.runcomfy.net/outputs/v.mp4",
        "HTTPS://CDN.Example.com/v.mp4?sig=abc&exp=1#t=2",
        "https://cdn.example.com:8443/v.mp4",
        "https://93.184.216.34/v.mp4",
        "https://[2606:4700:4700::1111]/v.mp4",
        "https://xn--bcher-kva.example/v.mp4",
    ],
)
def test_links_that_may_be_shown(url: str) -> None:
    assert is_public_https_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/v.mp4",
        "javascript:alert(1)",
        "JaVaScRiPt://cdn.example.com/%0aalert(1)",
        "file:///etc/passwd",
        "ftp://cdn.example.com/v.mp4",
        "data:text/html,hi",
        "//cdn.example.com/v.mp4",
        "/v.mp4",
        "https://",
        "https:///v.mp4",
        "https://user:pw@cdn.example.com/v.mp4",
        "https://user@cdn.example.com/v.mp4",
        "https://@cdn.example.com/v.mp4",
        "https://cdn.example.com\\@evil.example/v.mp4",
        "https://cdn.example.com/v.mp4 trailing words",
        "https://cdn.example.com/v\n.mp4",
        "https://cdn.example.com/\u202ev.mp4",
        " https://cdn.example.com/v.mp4",
        "https://localhost/v.mp4",
        "https://127.0.0.1/v.mp4",
        "https://10.1.2.3/v.mp4",
        "https://192.168.0.10:8443/v.mp4",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/v.mp4",
        "https://[fd00:ec2::254]/v.mp4",
        "https://[::ffff:127.0.0.1]/v.mp4",
        "https://2130706433/v.mp4",
        "https://0x7f000001/v.mp4",
        "https://127.1/v.mp4",
        "https://\u24dbocalhost/v.mp4",  # ⓛocalhost: normalises to localhost
        "https://127\u30020\u30020\u30021/v.mp4",  # ideographic full stops
        "https://printer.local/v.mp4",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://intranet/v.mp4",
        "https://[::1/v.mp4",
        "",
    ],
)
def test_links_that_are_never_shown(url: str) -> None:
    assert not is_public_https_link(url)
