"""The bot: wires settings, the RunComfy client, the store and the tracker, then loads cogs."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
from typing import Any

import aiohttp
import discord
from discord.ext import commands

import cogs
from bot.clock import Clock, CorrectedClock, system_clock
from bot.config import ConfigError, Settings
from bot.discord_ui.audit import AuditLog
from bot.discord_ui.command_texts import CatalogTranslator
from bot.discord_ui.destinations import DiscordDestinations
from bot.discord_ui.job_desk import JobDesk
from bot.discord_ui.moderation import ModerationDesk
from bot.discord_ui.notices import ChannelNotifier
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.policy_gate import PolicyGate
from bot.discord_ui.replies import AnsweringTree
from bot.discord_ui.sessions.wiring import SessionSide
from bot.discord_ui.status_board import StatusBoard
from bot.discord_ui.stranded import StrandedVideos
from bot.discord_ui.strike_watch import StrikeWatch
from bot.grace import let_finish
from bot.health import HealthServer, serve_health
from bot.i18n import languages
from bot.jobs.line import ServerLimits
from bot.jobs.model import Failure
from bot.jobs.ports import JobStorage
from bot.jobs.tracker import JobTracker
from bot.media.cache import VideoCache
from bot.media.delivery import VideoDelivery
from bot.media.download import OutputFetcher
from bot.media.fitter import VideoFitter
from bot.media.folder import DownloadFolder
from bot.media.safe_session import make_session
from bot.metrics import BotMetrics
from bot.policy.book import PolicyBook
from bot.server_settings_registry import ServerSettingsRegistry
from bot.sharding import ShardSet
from bot.store.opening import Storage, open_storage
from bot.tuning import Tuning, poll_policy_for, tracker_settings_for

log = logging.getLogger(__name__)


def extensions() -> tuple[str, ...]:
    """Every module in `cogs/` is an extension (a `_private` one would be skipped)."""
    return tuple(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class VideoBot(commands.AutoShardedBot):
    """A slash-command-only bot: it needs no privileged intents and reads no messages.

    discord.py's sharded client: SHARD_COUNT/SHARD_IDS pick the shards this process runs
    (several processes then run one bot, each receiving its own shards' servers); without
    them it runs every shard Discord recommends, one for a small bot."""

    http_session: aiohttp.ClientSession
    storage: Storage
    store: JobStorage
    server_settings: ServerSettingsRegistry
    tracker: JobTracker
    fetcher: OutputFetcher
    downloads: DownloadFolder
    video_cache: VideoCache
    fitter: VideoFitter
    delivery: VideoDelivery
    outbox: ChannelOutbox
    board: StatusBoard
    notifier: ChannelNotifier
    stranded: StrandedVideos
    audit: AuditLog
    desk: JobDesk
    session_side: SessionSide
    policy: PolicyBook
    moderation: ModerationDesk
    strikes: StrikeWatch
    health: HealthServer | None = None

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        tuning: Tuning | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        metrics = BotMetrics()
        shard_count = settings.discord.shard_count if settings.discord else None
        shard_ids = settings.discord.shard_ids if settings.discord else None
        super().__init__(
            shard_count=shard_count,
            # None (every shard) is discord.py's default, though its hints say list[int]
            shard_ids=list(shard_ids) if shard_ids else None,  # type: ignore[arg-type]
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            guild_ready_timeout=(tuning or Tuning()).guild_ready_timeout,
            tree_cls=AnsweringTree,
            http_trace=metrics.discord_trace(),
        )
        self.metrics = metrics
        self._closing_own: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()
        self._answering: set[asyncio.Task[Any]] = set()
        self.set_up = False
        """Whether `setup_hook` has finished (a stop before that interrupts it instead)."""
        self.settings = settings
        self.clock = clock or system_clock()
        self.tuning = tuning or Tuning()
        self.destinations = DiscordDestinations(self, trust_for=self.tuning.destination_trust)

    async def setup_hook(self) -> None:
        settings = self.settings
        self.http_session = make_session(trusted_origins=[settings.runcomfy.api_base])
        self.storage = await open_storage(settings, shards=self._configured_shards())
        self.store = self.storage.jobs
        shared = self.shared_clock = CorrectedClock(self.clock)
        self.server_settings = ServerSettingsRegistry(
            self.storage.settings, settings.server_defaults, shared.now
        )
        await self.server_settings.load()
        self.policy = PolicyBook(self.storage.policy, now=shared.now, news=self.storage.news)
        await self.policy.load()
        self.server_settings.on_change = self.policy.changed
        self.policy.on_reload.append(self.server_settings.reload)
        client = settings.runcomfy.client(self.http_session, self.clock, observer=self.metrics)
        self.tracker = JobTracker(
            self.store,
            client,
            clock=shared,
            pricing=settings.runcomfy.pricing,
            poll_policy=poll_policy_for(settings),
            settings=tracker_settings_for(settings),
            limits_for=self._limits_for,
            leases=self.storage.leases,
            peers=self.storage.peers,
            destinations=self.destinations,
        )
        self.metrics.count_jobs(self.tracker.open_jobs)
        self.tracker.add_observer(self.metrics)
        self.fetcher = OutputFetcher(
            self.http_session,
            trusted_origin=settings.runcomfy.api_base,
            total_seconds=settings.media.download_timeout_seconds,
        )
        await self._open_media_folders()
        self.fitter = VideoFitter(max_parallel=settings.media.fit_max_parallel)
        self.delivery = VideoDelivery(
            self.fetcher,
            folder=self.downloads,
            cache=self.video_cache,
            fitter=self.fitter,
            max_download_bytes=settings.jobs.max_download_bytes,
            fit_time_limit_seconds=settings.media.fit_time_limit_seconds,
        )
        self._wire_discord_side()
        for extension in extensions():
            await self.load_extension(extension)
        await self.tracker.start()
        await self.session_side.start(job.session_id for job in self.tracker.open_jobs())
        await self.policy.start()
        await self._serve_health()
        await self.tree.set_translator(CatalogTranslator(languages()))
        await self._sync_commands()
        self.set_up = True

    async def _open_media_folders(self) -> None:
        """Downloads and kept videos live beside the database; a previous run's half-done
        downloads are removed before any new one starts (in a thread: it is disk work)."""
        self.downloads = DownloadFolder(self.settings.downloads_folder)
        try:
            await asyncio.to_thread(self.downloads.clear_leftovers)
            self.video_cache = await VideoCache.open(
                self.settings.video_cache_folder, self.settings.media.video_cache_bytes
            )
        except OSError as error:
            problem = f"points to a folder where the bot cannot keep videos: {error}"
            raise ConfigError("DATABASE_URL", problem) from error

    def _wire_discord_side(self) -> None:
        """The Discord helpers every extension shares, and their hooks into the tracker."""
        self.outbox = ChannelOutbox(interval=self.tuning.channel_edit_interval)
        self.board = StatusBoard(
            self,
            self.outbox,
            pricing=self.settings.runcomfy.pricing,
            place_in_line=self.tracker.place_in_line,
            monotonic=self.clock.monotonic,
            edit_interval=self.tuning.status_refresh_interval,
            estimate=self.tracker.estimate,
            remind=self.tracker.remind_at,
            now=self.clock.now,
        )
        side = SessionSide(
            self,
            self.storage.sessions,
            self.tracker,
            self.outbox,
            self.server_settings.get,
            shared=self.storage.leases.shared,
        )
        self.session_side = side
        self.notifier = ChannelNotifier(
            self, self.outbox, self.delivery, notes=self.board, gallery=side.gallery
        )
        self.audit = AuditLog(self, self.outbox, self.server_settings.get, self.shared_clock.now)
        gate = PolicyGate(
            self.policy,
            settings_for=self.server_settings.get,
            audit=self.audit,
            now=self.shared_clock.now,
        )
        self.desk = JobDesk(
            self,
            self.tracker,
            settings_for=self.server_settings.get,
            outbox=self.outbox,
            board=self.board,
            audit=self.audit,
            gate=gate,
            now=self.shared_clock.now,
            reply_window=self.tuning.interaction_reply_window,
        )
        self.moderation = ModerationDesk(
            self.tracker,
            gate,
            audit=self.audit,
            settings_for=self.server_settings.get,
            now=self.shared_clock.now,
        )
        self.strikes = StrikeWatch(
            self,
            self.policy,
            reach=gate.reach,
            audit=self.audit,
            settings_for=self.server_settings.get,
            now=self.shared_clock.now,
        )
        side.open_desk(self.desk, self.board, self.audit)
        self.stranded = StrandedVideos(self)
        self.tracker.add_observer(self.board)
        self.tracker.add_observer(self.strikes)
        self.tracker.add_observer(self.stranded)
        self.tracker.add_observer(side.watch)
        self.tracker.set_notifier(self.notifier)

    async def _serve_health(self) -> None:
        """The health endpoint (HEALTH_PORT), once the jobs are loaded: the metrics are fed
        from the start, whether served or not."""
        if self.settings.health is None:
            return
        self.health = await serve_health(
            self.settings.health,
            client=self,
            ping=self.storage.schema_version,
            writable=self.tracker.store_writable,
            alive=self.tracker.is_running,
            registry=self.metrics.registry,
        )

    def _limits_for(self, guild_id: int | None) -> ServerLimits:
        server = self.server_settings.get(guild_id)
        return ServerLimits(
            per_user=server.max_active_per_user, per_server=server.max_active_per_server
        )

    def _configured_shards(self) -> ShardSet | None:
        """The shards SHARD_COUNT/SHARD_IDS give this process, known before connecting;
        None when it runs every shard (its jobs need no preference)."""
        discord_settings = self.settings.discord
        if discord_settings is None or discord_settings.shard_count is None:
            return None
        return ShardSet.of(discord_settings.shard_count, discord_settings.shard_ids)

    @property
    def shard_set(self) -> ShardSet | None:
        """The shards this process runs; None until the count is known (without SHARD_COUNT
        discord.py asks Discord for it when it connects)."""
        count: int | None = self.shard_count  # discord.py hints int; None before connecting
        return None if count is None else ShardSet.of(count, self.shard_ids)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process receives the server's commands and buttons (``None``, a DM:
        shard 0's); always so when it runs every shard, also before it has connected."""
        shards = self.shard_set
        return self.shard_ids is None or shards is None or shards.owns(guild_id)

    @property
    def syncs_commands(self) -> bool:
        """Commands belong to the application, not to a shard: one process (the one running
        shard 0, or the only one) registers them, the others would only repeat it."""
        return self.shard_ids is None or 0 in self.shard_ids

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self.tuning.identify_interval)

    async def _sync_commands(self) -> None:
        if not self.syncs_commands:
            log.info("commands are registered by the process that runs shard 0")
            return
        guild_ids = self.settings.discord.command_guild_ids if self.settings.discord else ()
        if not guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands (they may take a while to appear)", len(synced))
            return
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to server %d", len(synced), guild_id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: stop spending on it (see `JobTracker.abandon`)."""
        await self.tracker.abandon(guild_id=guild.id, failure=Failure.SERVER_LEFT)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a server, perhaps one it left: its new jobs go ahead."""
        await self.tracker.reachable_again(guild_id=guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.tracker.abandon(channel_id=channel.id, failure=Failure.CHANNEL_GONE)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        """The bot lost sight of a channel (or got it back): as if it were deleted."""
        me: discord.Member | None = after.guild.me
        if me is None:
            return
        saw, sees = before.permissions_for(me).view_channel, after.permissions_for(me).view_channel
        if saw and not sees:
            await self.tracker.abandon(channel_id=after.id, failure=Failure.CHANNEL_GONE)
        elif sees and not saw:
            await self.tracker.reachable_again(channel_id=after.id)

    async def on_thread_delete(self, thread: discord.Thread) -> None:
        await self.tracker.abandon(channel_id=thread.id, failure=Failure.CHANNEL_GONE)

    async def on_ready(self) -> None:
        """Connected, every server loaded: jobs whose server or channel went while the bot
        was down are abandoned now (no event said so)."""
        await self.destinations.sweep(self.tracker)
        log.info(
            "ready: logged in as %s on %s in %d servers, %d unfinished jobs",
            self.user,
            self.shard_set,
            len(self.guilds),
            len(self.tracker.open_jobs()),
        )

    async def _let_answers_finish(self, within: float) -> None:
        """Commands and buttons being answered finish (they may store a job); past the
        grace they are cut off, so none touches the database once it is closed."""
        left = await let_finish(set(self._answering), within=within, hurry=self._hurry)
        if not left:
            return
        log.warning("stopping: %d commands or buttons still being answered are cut off", len(left))
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    @property
    def stopping(self) -> bool:
        """Whether the bot is stopping: it takes no new work (commands and buttons are
        answered "restarting"), while the gateway stays open for the grace."""
        return self._closing_own is not None

    def request_stop(self, why: str) -> None:
        """A stop signal (`bot.running`): close cleanly; a second one cuts the grace
        for the uploads and submits under way short."""
        if self._stopping is None:
            log.info(
                "%s: stopping; new commands are answered 'restarting', work under way gets "
                "up to %.0f s",
                why,
                self.settings.stop_grace_seconds,
            )
            self._stopping = asyncio.create_task(self.close(), name="bot-stop")
            return
        log.info("%s again: stopping now, without waiting for the work under way", why)
        self._hurry.set()
        if hasattr(self, "tracker"):
            self.tracker.hurry()

    def answering(self) -> None:
        """The current task answers a command, button or form: a stop lets it finish
        within the grace before the tracker and the database close."""
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    async def close(self) -> None:
        """Our own parts first, discord.py's last: once discord.py is closed, `start()`
        returns and whoever ran it may end the event loop under the rest of this. Like
        discord.py's, safe to call twice (a signal handler and `async with` both do)."""
        if self._closing_own is None:
            self._closing_own = asyncio.create_task(self._close_own(), name="bot-close")
        await self._closing_own
        await super().close()

    async def _close_own(self) -> None:
        """The clean stop (docs/operations.md, "Stopping"): no new work, the answers and the
        tracker's work under way share one grace, then everything closes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.stop_grace_seconds
        if self.health is not None:
            await self.health.close()
        if hasattr(self, "session_side"):
            await self.session_side.close()
        if hasattr(self, "tracker"):
            await self.tracker.stop_taking_work()
        await self._let_answers_finish(deadline - loop.time())
        if hasattr(self, "tracker"):
            await self.tracker.close(within=max(0.0, deadline - loop.time()))
        if hasattr(self, "strikes"):
            await self.strikes.close()
        if hasattr(self, "policy"):
            await self.policy.close()
        if hasattr(self, "board"):
            await self.board.close()
        if hasattr(self, "stranded"):
            await self.stranded.close()
        await self.destinations.close()
        if hasattr(self, "outbox"):
            await self.outbox.close()
        if hasattr(self, "storage"):
            await self.storage.close()
        if hasattr(self, "http_session"):
            await self.http_session.close()
        if hasattr(self, "downloads"):
            self.downloads.close()
        log.info("stopped: every job is stored and carries on at the next start")
