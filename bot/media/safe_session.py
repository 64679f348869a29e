"""An `aiohttp.ClientSession` that only connects to public addresses.

Checking a link's host before requesting it is not enough: a name can resolve to a
public address for the check and to `127.0.0.1` for the connection (DNS rebinding).
So the check sits where the connection is made: `PublicOnlyResolver` refuses a name if
any address it resolves to is not public, and `refuse_private_literals` refuses URLs
whose host is a literal non-public IP (aiohttp never asks the resolver about those),
on every request the session makes, redirects included. Trusted origins (the RunComfy
API, which is a local emulator in tests) are exempt.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.media.addresses import is_public_address, looks_like_address, parse_address

Origin = tuple[str, str, int]


class UnsafeAddressError(OSError):
    """A connection to a non-public address was refused.

    An `OSError`, as resolvers are expected to raise; aiohttp wraps it in a
    `ClientConnectorError`, so callers look for it in the exception's causes.
    """

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(f"{host} is not a public internet address")


def origin_of(url: URL) -> Origin | None:
    """(scheme, host, port) of an absolute URL, lowercased; None if it has no host."""
    if not url.is_absolute() or not url.raw_host or url.port is None:
        return None
    return (url.scheme.lower(), url.raw_host.lower(), url.port)


def parse_origins(origins: Iterable[str]) -> frozenset[Origin]:
    """The origins of `origins`; a URL without a host is a configuration mistake."""
    parsed = set()
    for text in origins:
        origin = origin_of(URL(text))
        if origin is None:
            raise ValueError(f"not an absolute URL with a host: {text!r}")
        parsed.add(origin)
    return frozenset(parsed)


class PublicOnlyResolver(AbstractResolver):
    """Wraps a resolver and refuses names that resolve to any non-public address.

    Refusing the whole name, rather than dropping the bad addresses, keeps a name that
    mixes public and private answers (a rebinding trick) from working at all.
    """

    def __init__(self, inner: AbstractResolver, *, trusted: Iterable[tuple[str, int]] = ()) -> None:
        self._inner = inner
        self._trusted = frozenset((host.lower(), port) for host, port in trusted)

    def __repr__(self) -> str:
        return f"PublicOnlyResolver({self._inner!r}, trusted={sorted(self._trusted)!r})"

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if (host.lower(), port) in self._trusted:
            return results
        for result in results:
            address = parse_address(result["host"])
            if address is None or not is_public_address(address):
                raise UnsafeAddressError(host)
        return results

    async def close(self) -> None:
        await self._inner.close()


class LiteralAddressGuard:
    """Client middleware: refuses requests to a literal non-public IP host.

    Runs for each request and each redirect aiohttp follows, before connecting.
    """

    def __init__(self, trusted: frozenset[Origin]) -> None:
        self._trusted = trusted

    def __repr__(self) -> str:
        return f"LiteralAddressGuard(trusted={sorted(self._trusted)!r})"

    def allows(self, url: URL) -> bool:
        host = url.raw_host
        if not host or not looks_like_address(host) or origin_of(url) in self._trusted:
            return True
        address = parse_address(host)
        return address is not None and is_public_address(address)

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if not self.allows(request.url):
            raise UnsafeAddressError(request.url.raw_host or "")
        return await handler(request)


def make_connector(
    *, trusted_origins: Iterable[str], resolver: AbstractResolver | None = None
) -> aiohttp.TCPConnector:
    """A connector whose name lookups only yield public addresses (trusted origins aside).

    `resolver` is the real lookup (default: the system's `getaddrinfo`, which needs no
    closing); the connector does not close a resolver it is given.
    """
    trusted = parse_origins(trusted_origins)
    inner = resolver if resolver is not None else aiohttp.ThreadedResolver()
    guarded = PublicOnlyResolver(inner, trusted=((host, port) for _, host, port in trusted))
    return aiohttp.TCPConnector(resolver=guarded)


def make_session(
    *, trusted_origins: Iterable[str], resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """The bot's one shared session: connects only to public addresses and trusted origins.

    Must be called with an event loop running. Closing the session closes the connector.
    """
    origins = tuple(trusted_origins)
    return aiohttp.ClientSession(
        connector=make_connector(trusted_origins=origins, resolver=resolver),
        middlewares=(LiteralAddressGuard(parse_origins(origins)),),
    )


def unsafe_cause(error: BaseException) -> UnsafeAddressError | None:
    """The `UnsafeAddressError` behind an aiohttp error, however aiohttp wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UnsafeAddressError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
