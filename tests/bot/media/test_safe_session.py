"""The guarded session: name lookups and literal hosts are checked where it connects.

Only 127.0.0.1 is ever connected to; other addresses are judged through a resolver
stub or the pure `allows` check, never a real connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.media.safe_session import (
    LiteralAddressGuard,
    PublicOnlyResolver,
    UnsafeAddressError,
    make_session,
    origin_of,
    parse_origins,
    unsafe_cause,
)
from tests.bot.media.stubs import TableResolver

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:4700:4700::1111"


class Hits:
    """Counts the requests a test server received."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, Hits]]:
    hits = Hits()

    async def ok(request: web.Request) -> web.Response:
        hits.count += 1
        return web.Response(text="ok")

    async def bounce(request: web.Request) -> web.Response:
        hits.count += 1
        raise web.HTTPFound(request.query["to"])

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/bounce", bounce)
    test_server = TestServer(app, host="127.0.0.1")
    async with test_server:
        yield test_server, hits


def port_of(test_server: TestServer) -> int:
    assert test_server.port is not None
    return test_server.port


def base(test_server: TestServer, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port_of(test_server)}"


# --- the resolver, on its own ---


@pytest.mark.parametrize(
    "answers", [[PUBLIC_V4], [PUBLIC_V6], [PUBLIC_V4, PUBLIC_V6], ["::ffff:93.184.216.34"]]
)
async def test_public_answers_pass_through(answers: list[str]) -> None:
    resolver = PublicOnlyResolver(TableResolver({"cdn.test": answers}))
    results = await resolver.resolve("cdn.test", 443)
    assert [result["host"] for result in results] == answers


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["::1"],
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["fe80::1%eth0"],
        ["100.64.1.1"],
        ["::ffff:127.0.0.1"],
        ["0.0.0.0"],
        [PUBLIC_V4, "192.168.1.1"],  # one bad answer spoils the name
        ["192.168.1.1", PUBLIC_V4],
        ["not-an-address"],
    ],
)
async def test_any_non_public_answer_refuses_the_name(answers: list[str]) -> None:
    resolver = PublicOnlyResolver(TableResolver({"cdn.test": answers}))
    with pytest.raises(UnsafeAddressError) as caught:
        await resolver.resolve("cdn.test", 443)
    assert caught.value.host == "cdn.test"
    assert str(caught.value) == "cdn.test is not a public internet address"


async def test_a_trusted_name_and_port_may_be_local() -> None:
    table = TableResolver({"emulator.test": ["127.0.0.1"]})
    resolver = PublicOnlyResolver(table, trusted=[("Emulator.Test", 8080)])
    assert [r["host"] for r in await resolver.resolve("emulator.test", 8080)] == ["127.0.0.1"]
    with pytest.raises(UnsafeAddressError):
        await resolver.resolve("emulator.test", 8081)


async def test_closing_closes_the_wrapped_resolver() -> None:
    table = TableResolver({})
    await PublicOnlyResolver(table).close()
    assert table.closed


# --- the literal-address guard, on its own ---


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"https://{PUBLIC_V4}/v.mp4", True),
        (f"https://[{PUBLIC_V6}]/v.mp4", True),
        ("https://cdn.example.com/v.mp4", True),  # names are the resolver's job
        ("http://127.0.0.1:8080/files/v.mp4", True),  # the trusted origin
        ("https://127.0.0.1:8080/v.mp4", False),  # same host and port, other scheme
        ("http://127.0.0.1:8081/v.mp4", False),
        ("http://127.0.0.2:8080/v.mp4", False),
        ("https://10.0.0.1/v.mp4", False),
        ("https://169.254.169.254/latest/meta-data/", False),
        ("https://100.64.0.1/v.mp4", False),
        ("https://[::1]/v.mp4", False),
        ("https://[::ffff:169.254.169.254]/v.mp4", False),
        ("https://[fd00:ec2::254]/v.mp4", False),
        ("https://[fe80::1]/v.mp4", False),
        ("https://224.0.0.1/v.mp4", False),
        ("https://2130706433/v.mp4", False),
    ],
)
def test_literal_hosts(url: str, allowed: bool) -> None:
    guard = LiteralAddressGuard(parse_origins(["http://127.0.0.1:8080/"]))
    assert guard.allows(URL(url)) is allowed


def test_origins() -> None:
    assert origin_of(URL("HTTP://Emulator.Test:8080/x")) == ("http", "emulator.test", 8080)
    assert origin_of(URL("https://cdn.example.com/x")) == ("https", "cdn.example.com", 443)
    assert origin_of(URL("/relative")) is None
    with pytest.raises(ValueError, match="not an absolute URL"):
        parse_origins(["model-api.runcomfy.net"])


# --- the whole session against a local server ---


async def test_the_trusted_origin_is_reachable(server: tuple[TestServer, Hits]) -> None:
    test_server, hits = server
    async with (
        make_session(trusted_origins=[base(test_server)]) as session,
        session.get(f"{base(test_server)}/ok") as response,
    ):
        assert await response.text() == "ok"
    assert hits.count == 1


async def test_loopback_outside_the_trusted_origin_is_refused(
    server: tuple[TestServer, Hits],
) -> None:
    test_server, hits = server
    trusted = f"http://127.0.0.1:{port_of(test_server) + 1}"
    async with make_session(trusted_origins=[trusted]) as session:
        with pytest.raises(aiohttp.ClientError) as caught:
            await session.get(f"{base(test_server)}/ok")
    assert unsafe_cause(caught.value) is not None
    assert hits.count == 0


async def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(
    server: tuple[TestServer, Hits],
) -> None:
    """DNS rebinding: whatever a name said earlier, the address used now is checked."""
    test_server, hits = server
    table = TableResolver({"video.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]})
    async with make_session(trusted_origins=[], resolver=table) as session:
        for host in ("video.test", "localhost"):
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                await session.get(f"{base(test_server, host)}/ok")
            refused = unsafe_cause(caught.value)
            assert refused is not None
            assert refused.host == host
    port = port_of(test_server)
    assert table.asked == [("video.test", port), ("localhost", port)]
    assert hits.count == 0


async def test_a_trusted_name_on_loopback_is_reachable(server: tuple[TestServer, Hits]) -> None:
    test_server, hits = server
    table = TableResolver({"emulator.test": ["127.0.0.1"]})
    trusted = base(test_server, "emulator.test")
    async with (
        make_session(trusted_origins=[trusted], resolver=table) as session,
        session.get(f"{trusted}/ok") as response,
    ):
        assert response.status == 200
    assert hits.count == 1


async def test_redirects_followed_by_aiohttp_are_checked_too(
    server: tuple[TestServer, Hits],
) -> None:
    test_server, hits = server
    table = TableResolver({"emulator.test": ["127.0.0.1"]})
    trusted = base(test_server, "emulator.test")
    target = f"{base(test_server)}/ok"
    async with make_session(trusted_origins=[trusted], resolver=table) as session:
        with pytest.raises(aiohttp.ClientError) as caught:
            await session.get(f"{trusted}/bounce", params={"to": target})
    assert unsafe_cause(caught.value) is not None
    assert hits.count == 1


async def test_closing_the_session_closes_its_connector() -> None:
    session = make_session(trusted_origins=[], resolver=TableResolver({}))
    connector = session.connector
    await session.close()
    assert connector is not None
    assert connector.closed


def test_unsafe_cause_walks_the_chain() -> None:
    inner = UnsafeAddressError("video.test")
    middle = aiohttp.ClientOSError("wrapped")
    middle.__cause__ = inner
    outer = aiohttp.ClientConnectionError("outer")
    outer.__context__ = middle
    assert unsafe_cause(outer) is inner
    assert unsafe_cause(aiohttp.ClientOSError("plain")) is None
