"""Configuration and the shared state every route and the test API work on."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .commands import CommandStore
from .gateway import GatewayHub
from .ids import SnowflakeFactory
from .interactions import InteractionRegistry
from .invocations import InvocationBuilder
from .messages import MessageStore
from .messaging import Messenger
from .payloads import Payloads
from .ratelimit import RateLimiter
from .records import ErrorRecord, RequestRecord
from .threads import ThreadKeeper
from .uploads import BodyReader
from .world import World


@dataclass(frozen=True)
class FakeConfig:
    bot_token: str
    ack_deadline: float
    token_lifetime: float
    default_upload_limit: int
    channel_rate_limit: tuple[int, float]
    nonce_window: float
    spill_threshold: int
    route_rate_limit: tuple[int, float]
    bot_name: str
    recommended_shards: int = 1
    """``shards`` in GET /gateway/bot: what discord.py's AutoShardedClient runs by default."""
    max_concurrency: int = 1
    """``session_start_limit.max_concurrency``: IDENTIFYs allowed per 5 s (not enforced)."""
    max_guilds_per_session: int = 2500
    """A session that would get more guilds is closed with 4011 Sharding required."""
    session_start_total: int = 1000


class FakeState:
    """Owns the world, stores and logs; one instance per FakeDiscord, nothing global."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.ids = SnowflakeFactory()
        self.world = World(
            self.ids, bot_name=config.bot_name, default_upload_limit=config.default_upload_limit
        )
        self.payloads = Payloads(self.world, cdn_base="")
        self.hub = GatewayHub(
            token=config.bot_token,
            world=self.world,
            payloads=self.payloads,
            max_guilds_per_session=config.max_guilds_per_session,
        )
        self.store = MessageStore(config.nonce_window)
        self.messenger = Messenger(self.world, self.store, self.payloads, self.hub, self.ids)
        self.threads = ThreadKeeper(self.messenger)
        self.commands = CommandStore(self.ids, self.world.application_id)
        self.interactions = InteractionRegistry()
        self.invocations = InvocationBuilder(self.world, self.payloads, self.commands, self.ids)
        self.limiter = RateLimiter()
        self._spill_dir: Path | None = None
        self.bodies = BodyReader(self.spill_dir, config.spill_threshold)
        self.requests: list[RequestRecord] = []
        self.errors: list[ErrorRecord] = []
        self.unknown_routes: list[RequestRecord] = []
        self.rate_limited_count = 0
        self.channel_bucket_exhausted = 0
        self.outage_status: int | None = None
        self.upload_gate: asyncio.Event | None = None
        """Set while uploads are held: a message with files waits, once its body is in,
        until the gate opens (a slow upload, as the bot sees it)."""
        self.uploads_waiting = 0

    def spill_dir(self) -> Path:
        """Created on the first large upload, removed by ``cleanup``."""
        if self._spill_dir is None:
            self._spill_dir = Path(tempfile.mkdtemp(prefix="fake-discord-"))
        return self._spill_dir

    def cleanup(self) -> None:
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir = None

    def upload_limit(self, guild_id: int | None) -> int:
        guild = self.world.guild(guild_id) if guild_id is not None else None
        return guild.upload_limit if guild else self.config.default_upload_limit
