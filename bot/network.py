"""Why a host could not be reached, said so an operator knows what to check.

aiohttp reports an unknown host, a refused connection, a failed TLS handshake and a
timeout as different exceptions, often wrapping the operating system's own; `cause_of`
names which of them it was, and `unreachable` words it with the host and the one thing
worth checking first. Shared by the operator command line (RunComfy), the bot's start-up
(Discord) and the doctor, so the same cause reads the same everywhere.
"""

from __future__ import annotations

import socket
import ssl
from enum import StrEnum
from urllib.parse import urlsplit

import aiohttp


class Cause(StrEnum):
    """What stood between this machine and the host; the value is how it is said."""

    UNRESOLVED = "cannot resolve the host name"
    REFUSED = "the connection was refused"
    TLS = "the TLS handshake failed"
    TIMEOUT = "no answer in time"
    CUT = "the connection was cut"
    OTHER = "a network error"


_CHECK = {
    Cause.UNRESOLVED: "Check the host name{in_setting} and this machine's DNS "
    "(`getent hosts {host}`)",
    Cause.REFUSED: "Nothing accepts connections on that port: check the port{in_setting} "
    "and any firewall in between",
    Cause.TLS: "Check the system clock and the CA certificates (the ca-certificates "
    "package), or a proxy that intercepts TLS",
    Cause.TIMEOUT: "Check the network, and any firewall that drops traffic to {host}",
    Cause.CUT: "Something closed the connection mid-way (a proxy or a firewall?); try again",
    Cause.OTHER: "Check the network",
}
"""What to check first, per cause."""


def cause_of(error: BaseException) -> Cause:
    """The cause behind an aiohttp (or socket) error, following its chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _direct_cause(current)
        if found is not None:
            return found
        current = getattr(current, "os_error", None) or current.__cause__ or current.__context__
    return Cause.OTHER


def _direct_cause(error: BaseException) -> Cause | None:
    if isinstance(error, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return Cause.UNRESOLVED
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return Cause.TLS
    if isinstance(error, ConnectionRefusedError):
        return Cause.REFUSED
    if isinstance(error, TimeoutError):
        return Cause.TIMEOUT
    if isinstance(
        error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | ConnectionResetError
    ):
        return Cause.CUT
    return None


def host_of(url: str) -> str:
    """host[:port] of a URL, as an operator would look it up (no path, no credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def unreachable(service: str, host: str, cause: Cause, *, setting: str | None = None) -> str:
    """One line: who could not be reached, why, and what to check (`setting` names where
    the address comes from, if a setting gives it)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    in_setting = f" in {setting}" if setting else ""
    check = _CHECK[cause].format(in_setting=in_setting, host=name)
    return f"Could not reach {service} at {host}: {cause.value}. {check}."
