"""The gateway websocket: HELLO, heartbeats, IDENTIFY/READY, RESUME, and event dispatch.

Sharding as Discord does it: an IDENTIFY may carry ``shard: [shard_id, num_shards]``; that
session then gets READY's guild list, GUILD_CREATE and every event only for the guilds with
``(guild_id >> 22) % num_shards == shard_id``, and DMs only on shard 0. A session without a
shard key gets everything."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .gateway_codec import FrameEncoder, encoder_for
from .ids import shard_of
from .payloads import Payloads
from .waiting import Signal
from .world import FakeGuild, World

HEARTBEAT_INTERVAL_MS = 41_250
RESUME_BUFFER = 1_000

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
DIRECT_MESSAGES = 1 << 12

HELLO, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 10, 1, 2, 3, 4
RESUME, REQUEST_MEMBERS, INVALID_SESSION, HEARTBEAT_ACK, DISPATCH = 6, 8, 9, 11, 0

CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_SESSION_TIMED_OUT = 4009
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_INVALID_VERSION = 4012
CLOSE_INVALID_INTENTS = 4013
CLOSE_RECONNECT = 4000


class GatewayConnection:
    """One websocket; a writer task sends frames in order (a compression stream must not
    interleave) so dispatching never waits on the network."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._encoder: FrameEncoder = encoder_for(compress)
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())
        self.closed_by_server = False

    def send(self, payload: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps(payload, separators=(",", ":")))

    async def _write(self) -> None:
        while (text := await self._queue.get()) is not None:
            frame = self._encoder.encode(text)
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    async def close(self, code: int, message: str = "") -> None:
        """Flush what was queued, then close with ``code`` (discord.py acts on the code)."""
        self.closed_by_server = True
        self._queue.put_nowait(None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._writer), 5)
        await self.ws.close(code=code, message=message.encode())

    def abort(self) -> None:
        self._writer.cancel()


@dataclass(eq=False)
class GatewaySession:
    """An identified session; it outlives a dropped connection so RESUME can replay events."""

    id: str
    intents: int
    shard: list[int] | None
    identify: dict[str, Any]
    compress: str | None = None
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RESUME_BUFFER))
    connection: GatewayConnection | None = None
    invalid: bool = False

    @property
    def live(self) -> bool:
        return self.connection is not None and not self.invalid

    def receives(self, guild_id: int | None) -> bool:
        """Whether this session is sent the events of ``guild_id`` (``None``: a DM or no
        guild, which Discord sends to shard 0 only)."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, shard_count) == shard_id

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        if self.connection is not None:
            self.connection.send(payload)


class GatewayHub:
    """Accepts bot connections and fans events out to every session that asked for them."""

    def __init__(
        self, *, token: str, world: World, payloads: Payloads, max_guilds_per_session: int = 2500
    ) -> None:
        self._token = token
        self._world = world
        self._payloads = payloads
        self.max_guilds_per_session = max_guilds_per_session
        self.identify_count = 0
        self.base_url = ""
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[GatewayConnection] = set()
        self.ready_count = 0
        self.resume_count = 0
        self._signal = Signal()

    @property
    def resume_url(self) -> str:
        return f"{self.base_url}/resume"

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.live]

    def receivers(self, guild_id: int | None) -> list[GatewaySession]:
        """Connected sessions that are sent ``guild_id``'s events (``None``: DMs)."""
        return [s for s in self.live_sessions() if s.receives(guild_id)]

    def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None,
        intent: int | None = None,
        unless_intent: tuple[int, dict[str, Any]] | None = None,
    ) -> int:
        """Send to every valid session of ``guild_id``'s shard (``None``: shard 0, as for DMs)
        with ``intent`` (buffered while disconnected); sessions lacking the intent in
        ``unless_intent`` get its alternative payload instead. Returns how many live sessions
        received it."""
        delivered = 0
        for session in self.sessions.values():
            if session.invalid or (intent is not None and not session.intents & intent):
                continue
            if not session.receives(guild_id):
                continue
            payload = data
            if unless_intent is not None and not session.intents & unless_intent[0]:
                payload = unless_intent[1]
            session.dispatch(event, payload)
            delivered += session.live
        return delivered

    def announce_guild(self, guild: FakeGuild) -> None:
        """The bot joined a guild after READY: GUILD_CREATE shaped by each session's intents."""
        for session in self.sessions.values():
            if not session.invalid and session.intents & GUILDS and session.receives(guild.id):
                members = bool(session.intents & GUILD_MEMBERS)
                session.dispatch(
                    "GUILD_CREATE", self._payloads.guild(guild, members_intent=members)
                )

    async def wait_until_ready(self, timeout: float, *, new: bool) -> GatewaySession:
        baseline = self.ready_count if new else 0

        def ready() -> GatewaySession | None:
            live = self.live_sessions()
            return live[-1] if self.ready_count > baseline and live else None

        return await self._signal.wait_for(
            ready, timeout, lambda: "a bot to IDENTIFY and receive READY + GUILD_CREATE"
        )

    async def disconnect(self, *, resumable: bool) -> None:
        """Drop every connection: resumable (4000) or with the sessions invalidated (4009)."""
        for session in list(self.sessions.values()):
            if not resumable:
                session.invalid = True
        code = CLOSE_RECONNECT if resumable else CLOSE_SESSION_TIMED_OUT
        await asyncio.gather(*(c.close(code) for c in list(self.connections)))

    async def close(self) -> None:
        await asyncio.gather(
            *(c.close(1001, "Fake Discord shutting down") for c in list(self.connections)),
            return_exceptions=True,
        )
        for connection in list(self.connections):
            connection.abort()
        self.connections.clear()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        query = request.query
        connection = GatewayConnection(ws, query.get("compress"))
        self.connections.add(connection)
        session: GatewaySession | None = None
        try:
            if query.get("v", "10") != "10":
                await connection.close(CLOSE_INVALID_VERSION, "Invalid API version.")
                return ws
            connection.send(
                {
                    "op": HELLO,
                    "s": None,
                    "t": None,
                    "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gw"]},
                }
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    if message.type is WSMsgType.BINARY:
                        await connection.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                    break
                session = await self._on_frame(connection, session, message.data)
        finally:
            self.connections.discard(connection)
            connection.abort()
            self._detach(connection, session, ws.close_code)
        return ws

    async def _on_frame(
        self, connection: GatewayConnection, session: GatewaySession | None, raw: str
    ) -> GatewaySession | None:
        try:
            frame = json.loads(raw)
            op, data = frame["op"], frame.get("d")
        except (ValueError, KeyError, TypeError):
            await connection.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return session
        if op == HEARTBEAT:
            connection.send({"op": HEARTBEAT_ACK, "s": None, "t": None, "d": None})
        elif op == IDENTIFY:
            if session is not None:
                await connection.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
                return session
            return await self._identify(connection, data or {})
        elif op == RESUME:
            return self._resume(connection, data or {})
        elif op in (PRESENCE, VOICE_STATE, REQUEST_MEMBERS):
            if session is None:
                await connection.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
            elif op == REQUEST_MEMBERS:
                self._send_members(session, data or {})
        else:
            await connection.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")
        return session

    def _token_ok(self, token: object) -> bool:
        return isinstance(token, str) and token.removeprefix("Bot ") == self._token

    async def _identify(
        self, connection: GatewayConnection, data: dict[str, Any]
    ) -> GatewaySession | None:
        if not self._token_ok(data.get("token")):
            await connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return None
        if not isinstance(data.get("intents"), int):
            await connection.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return None
        shard = data.get("shard")
        if shard is not None and not _valid_shard(shard):
            await connection.close(CLOSE_INVALID_SHARD, "Invalid shard.")
            return None
        session = GatewaySession(
            id=secrets.token_hex(16),
            intents=data["intents"],
            shard=shard,
            identify={k: v for k, v in data.items() if k != "token"},
            compress=connection.compress,
        )
        guilds = [g for g in self._world.guilds.values() if session.receives(g.id)]
        if len(guilds) > self.max_guilds_per_session:
            await connection.close(CLOSE_SHARDING_REQUIRED, "Sharding required.")
            return None
        self.identify_count += 1
        session.connection = connection
        self.sessions[session.id] = session
        session.dispatch("READY", self._ready_payload(session, guilds))
        if session.intents & GUILDS:
            members = bool(session.intents & GUILD_MEMBERS)
            for guild in guilds:
                session.dispatch(
                    "GUILD_CREATE", self._payloads.guild(guild, members_intent=members)
                )
        self.ready_count += 1
        self._signal.notify()
        return session

    def _ready_payload(self, session: GatewaySession, guilds: list[FakeGuild]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "v": 10,
            "user": self._payloads.current_user(),
            "user_settings": {},
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self.resume_url,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central"],
            "auth": {},
            "application": {
                "id": str(self._world.application_id),
                "flags": self._world.application_flags,
            },
            "_trace": ["fake-gateway"],
        }
        if session.shard is not None:
            payload["shard"] = session.shard
        return payload

    def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        oldest = session.buffer[0]["s"] if session and session.buffer else 1
        if (
            session is None
            or session.invalid
            or not self._token_ok(data.get("token"))
            or seq < oldest - 1
        ):
            connection.send({"op": INVALID_SESSION, "s": None, "t": None, "d": False})
            return None
        if session.connection is not None and session.connection is not connection:
            stale = session.connection
            asyncio.get_running_loop().create_task(stale.close(CLOSE_RECONNECT))
        session.connection = connection
        for payload in session.buffer:
            if payload["s"] > seq:
                connection.send(payload)
        session.dispatch("RESUMED", {"_trace": ["fake-gateway"]})
        self.resume_count += 1
        self._signal.notify()
        return session

    def _send_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self._world.guild(int(data.get("guild_id") or 0))
        if guild is None or not session.receives(guild.id):
            return
        members = [self._payloads.bot_member(guild)]
        members += [self._payloads.member(m) for m in guild.members.values()]
        chunk = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _detach(
        self, connection: GatewayConnection, session: GatewaySession | None, code: int | None
    ) -> None:
        """A client closing with 1000/1001 ends its session, as Discord does; other drops keep
        it resumable."""
        if session is None or session.connection is not connection:
            return
        session.connection = None
        if not connection.closed_by_server and code in (1000, 1001):
            session.invalid = True
            self.sessions.pop(session.id, None)
        self._signal.notify()


def _valid_shard(shard: object) -> bool:
    """``[shard_id, num_shards]`` with ``0 <= shard_id < num_shards``; else Discord closes 4010."""
    match shard:
        case [int() as shard_id, int() as shard_count] if not isinstance(shard_id, bool):
            return not isinstance(shard_count, bool) and 0 <= shard_id < shard_count
    return False
