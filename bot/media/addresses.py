"""Which network addresses and links count as public, without touching the network.

Output links come from an answer over the network, so a link could point the bot at
its own machine, the local network or a cloud metadata service. These pure functions
decide what is public; `bot.media.safe_session` applies them to the addresses a
connection actually uses, and the Discord side uses `is_public_https_link` before it
shows a link to anyone.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from yarl import URL

IPAddress = IPv4Address | IPv6Address

_BLOCKED_V4 = tuple(
    IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", including the unspecified address
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including the metadata service 169.254.169.254
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # deprecated 6to4 relays
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, including broadcast
    )
)

_BLOCKED_V6 = tuple(
    IPv6Network(net)
    for net in (
        "::/8",  # unspecified, loopback, IPv4-compatible and other reserved forms
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, including Teredo
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local (private)
        "fd00:ec2::254/128",  # the AWS metadata service over IPv6 (inside fc00::/7 too)
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)

_NAT64 = IPv6Network("64:ff9b::/96")

_LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")


def is_public_address(address: IPAddress) -> bool:
    """True for an address on the public internet; an IPv6 form of an IPv4 address is
    judged by the IPv4 address it carries, since that is where the traffic ends up."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        blocked: tuple[IPv4Network, ...] | tuple[IPv6Network, ...] = _BLOCKED_V6
    else:
        blocked = _BLOCKED_V4
    if any(address in network for network in blocked):
        return False
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 address, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_address(text: str) -> IPAddress | None:
    """The address written in `text` (an IPv6 zone such as `%eth0` is allowed), or None."""
    try:
        return ip_address(text)
    except ValueError:
        return None


def looks_like_address(host: str) -> bool:
    """True when a host is meant as an IP address rather than a name.

    Covers legacy numeric forms (`2130706433`, `0x7f.1`, `127.1`) that resolvers still
    map onto addresses: no real top-level domain is numeric.
    """
    if ":" in host:
        return True
    last = host.rstrip(".").rsplit(".", 1)[-1].lower()
    return last.isdigit() or (last.startswith("0x") and _is_hex(last[2:]))


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def is_public_host(host: str) -> bool:
    """Judge a URL's host without resolving it.

    A literal address must be public and written canonically; a name must not be one that
    only ever means this machine or the local network (`localhost`, `*.local`, single
    labels). Names are checked again, by address, when they are resolved.
    """
    if looks_like_address(host):
        address = parse_address(host)
        return address is not None and is_public_address(address)
    name = host.rstrip(".").lower()
    if "." not in name or name in _LOCAL_NAME_SUFFIXES or name.endswith(_LOCAL_NAME_SUFFIXES):
        return False
    return all(label for label in name.split("."))


def is_public_https_link(url: str) -> bool:
    """True if `url` may be shown to people: `https://`, no credentials, a public host.

    Refuses anything a browser and this parser could read differently (backslashes,
    whitespace, control characters), so the link people click goes where it was checked.
    """
    if url[:8].lower() != "https://" or _has_confusing_characters(url):
        return False
    if "@" in _authority(url):
        return False
    try:
        parsed = URL(url)
    except ValueError:
        return False
    host = parsed.raw_host
    return parsed.scheme == "https" and host is not None and is_public_host(host)


def _has_confusing_characters(url: str) -> bool:
    return "\\" in url or any(char.isspace() or not char.isprintable() for char in url)


def _authority(url: str) -> str:
    """The `user@host:port` part of an absolute URL, as written."""
    rest = url.split("://", 1)[1]
    for separator in "/?#":
        rest = rest.split(separator, 1)[0]
    return rest
