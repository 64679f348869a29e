"""The fake's world: the bot user, guilds, roles, channels and members tests build."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import permissions as perms
from .errors import FakeDiscordUsageError
from .ids import SnowflakeFactory, utcnow

TEXT_CHANNEL = 0
DM_CHANNEL = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
DEFAULT_APPLICATION_FLAGS = (1 << 23) | (1 << 19) | (1 << 15) | (1 << 13)
"""APPLICATION_COMMAND_BADGE and the three limited privileged intents (message content,
guild members, presence), as an unverified bot with them switched on shows."""

MIB = 1024 * 1024


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    discriminator: str = "0"
    accepts_dms: bool = True

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    mentionable: bool = False
    position: int = 0
    color: int = 0

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild_id

    @property
    def mention(self) -> str:
        return "@everyone" if self.is_everyone else f"<@&{self.id}>"


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    upload_limit: int
    preferred_locale: str = "en-US"
    joined_at: datetime = field(default_factory=utcnow)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    threads: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def premium_tier(self) -> int:
        """The boost tier discord.py maps to ``Guild.filesize_limit`` for this upload limit."""
        if self.upload_limit > 50 * MIB:
            return 3
        if self.upload_limit > 10 * MIB:
            return 2
        return 0


@dataclass(eq=False)
class ThreadState:
    """What makes a channel a thread: its parent, starter, archive state and members."""

    parent: FakeChannel
    owner_id: int
    created_at: datetime
    archive_timestamp: datetime
    auto_archive_duration: int = 1440
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    rate_limit_per_user: int = 0
    archiver_id: int | None = None
    message_count: int = 0
    total_message_sent: int = 0
    members: dict[int, datetime] = field(default_factory=dict)
    """Thread members (user id -> when they joined): its creator and everyone who posted."""


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    guild: FakeGuild | None
    type: int = TEXT_CHANNEL
    bot_permissions: int = perms.DEFAULT_BOT
    bot_denied: int = 0
    position: int = 0
    topic: str | None = None
    recipient: FakeUser | None = None
    member_overwrites: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per member id, the (allow, deny) of this channel's member overwrite."""
    thread: ThreadState | None = None
    """Set for a thread, which takes its permissions from ``thread.parent``."""

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def parent(self) -> FakeChannel | None:
        return self.thread.parent if self.thread is not None else None

    @property
    def archived(self) -> bool:
        return self.thread is not None and self.thread.archived

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild else None


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    roles: list[FakeRole]
    permissions: int
    joined_at: datetime = field(default_factory=utcnow)
    nick: str | None = None
    locale: str = "en-US"
    """The member's Discord language, sent as the interaction's ``locale``."""

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def permissions_in(self, channel: FakeChannel) -> int:
        """Roles (incl. @everyone), then the channel's member overwrite as Discord applies it
        (deny, then allow); the member's own grant is part of that overwrite's allow. In a
        thread, what the parent allows, as threads derive it."""
        if channel.thread is not None:
            parent = self.permissions_in(channel.thread.parent)
            return thread_permissions(parent, channel, self.id)
        base = self.guild.everyone.permissions
        for role in self.roles:
            base |= role.permissions
        allow, deny = channel.member_overwrites.get(self.id, (0, 0))
        return perms.effective((base & ~deny) | self.permissions | allow)


def thread_permissions(parent: int, thread: FakeChannel, user_id: int) -> int:
    """A thread's permissions for a user: the parent's, as threads derive them; a private
    thread is visible only to its members and to those who may manage threads."""
    assert thread.thread is not None
    found = perms.in_thread(parent)
    member = user_id in thread.thread.members
    if thread.type == PRIVATE_THREAD and not member and not found & perms.MANAGE_THREADS:
        return 0
    return found


class World:
    """Owns every entity and the snowflake factory; lookups fail loudly on unknown ids."""

    def __init__(self, ids: SnowflakeFactory, *, bot_name: str, default_upload_limit: int) -> None:
        self.ids = ids
        self.default_upload_limit = default_upload_limit
        self.bot = FakeUser(ids.next(), bot_name, None, bot=True, discriminator="4821")
        self.owner = FakeUser(ids.next(), "app-owner")
        self.guilds: dict[int, FakeGuild] = {}
        self.departed: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self._dm_channels: dict[int, FakeChannel] = {}
        self.application_flags = DEFAULT_APPLICATION_FLAGS
        """The application's ``flags``: which privileged intents the portal switched on."""

    @property
    def application_id(self) -> int:
        """Modern applications share their id with their bot user."""
        return self.bot.id

    def add_guild(
        self,
        name: str,
        *,
        upload_limit: int | None = None,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        if shard is not None and not 0 <= shard[0] < shard[1]:
            raise FakeDiscordUsageError(f"shard {shard} is not (shard_id, shard_count)")
        guild_id = self.ids.next_on_shard(*shard) if shard else self.ids.next()
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner_id=self.owner.id,
            upload_limit=upload_limit or self.default_upload_limit,
        )
        guild.roles[guild_id] = FakeRole(guild_id, guild_id, "@everyone", 0)
        self.guilds[guild_id] = guild
        return guild

    def add_role(
        self, guild: FakeGuild, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> FakeRole:
        role = FakeRole(
            self.ids.next(),
            guild.id,
            name,
            permissions,
            mentionable=mentionable,
            position=len(guild.roles),
        )
        guild.roles[role.id] = role
        return role

    def add_text_channel(
        self, guild: FakeGuild, name: str, *, bot_permissions: int, topic: str | None = None
    ) -> FakeChannel:
        channel = FakeChannel(
            self.ids.next(),
            name,
            guild,
            bot_permissions=bot_permissions,
            position=len(guild.channels),
            topic=topic,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        kind: int,
        owner_id: int,
        thread_id: int | None = None,
        auto_archive_duration: int = 1440,
        rate_limit_per_user: int = 0,
        invitable: bool = True,
    ) -> FakeChannel:
        """A thread under ``parent``; one started from a message shares the message's id."""
        if parent.guild is None or parent.thread is not None:
            raise FakeDiscordUsageError(f"#{parent.name} cannot hold threads")
        now = utcnow()
        thread = FakeChannel(
            thread_id or self.ids.next(),
            name,
            parent.guild,
            type=kind,
            bot_permissions=0,
            thread=ThreadState(
                parent=parent,
                owner_id=owner_id,
                created_at=now,
                archive_timestamp=now,
                auto_archive_duration=auto_archive_duration,
                rate_limit_per_user=rate_limit_per_user,
                invitable=invitable,
                members={owner_id: now},
            ),
        )
        parent.guild.threads[thread.id] = thread
        self.channels[thread.id] = thread
        return thread

    def threads_of(self, parent: FakeChannel) -> list[FakeChannel]:
        """The threads under ``parent`` that exist (archived ones too), oldest first."""
        guild = parent.guild
        return [t for t in guild.threads.values() if t.parent is parent] if guild else []

    def delete_thread(self, thread: FakeChannel) -> None:
        if thread.guild is None or thread.guild.threads.pop(thread.id, None) is None:
            raise FakeDiscordUsageError(f"no thread #{thread.name} to delete")
        self.channels.pop(thread.id, None)

    def remove_guild(self, guild: FakeGuild) -> None:
        """The bot is no longer in the guild; its channels stay known so REST can answer
        Missing Access for them, as Discord does, rather than Unknown Channel."""
        if self.guilds.pop(guild.id, None) is None:
            raise FakeDiscordUsageError(f"the bot is not in guild {guild.name!r}")
        self.departed[guild.id] = guild

    def delete_channel(self, channel: FakeChannel) -> None:
        """A deleted channel takes its threads with it."""
        if channel.thread is not None:
            raise FakeDiscordUsageError(f"#{channel.name} is a thread: delete it as one")
        if channel.guild is None or self.channels.pop(channel.id, None) is None:
            raise FakeDiscordUsageError(f"no guild channel #{channel.name} to delete")
        channel.guild.channels.pop(channel.id, None)
        for thread in self.threads_of(channel):
            self.delete_thread(thread)

    def shares_guild(self, user: FakeUser) -> bool:
        """Whether the user is a member of a guild the bot is in (Discord lets a bot write
        to a user only then)."""
        return any(user.id in guild.members for guild in self.guilds.values())

    def is_departed(self, channel: FakeChannel) -> bool:
        """The channel belongs to a guild the bot was removed from."""
        return channel.guild is not None and channel.guild.id in self.departed

    def add_user(self, name: str, *, accepts_dms: bool = True) -> FakeUser:
        user = FakeUser(self.ids.next(), name, name.title(), accepts_dms=accepts_dms)
        self.users[user.id] = user
        return user

    def add_member(
        self,
        guild: FakeGuild,
        user: FakeUser,
        *,
        roles: tuple[FakeRole, ...] | list[FakeRole],
        permissions: int,
    ) -> FakeMember:
        for role in roles:
            if role.guild_id != guild.id:
                raise FakeDiscordUsageError(f"role {role.name!r} belongs to another guild")
        member = FakeMember(user, guild, [r for r in roles if not r.is_everyone], permissions)
        guild.members[user.id] = member
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        channel = self._dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(
                self.ids.next(), "", None, type=DM_CHANNEL, bot_permissions=perms.ALL
            )
            channel.recipient = user
            self._dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def guild(self, guild_id: int) -> FakeGuild | None:
        return self.guilds.get(guild_id)

    def channel(self, channel_id: int) -> FakeChannel | None:
        return self.channels.get(channel_id)

    def user(self, user_id: int) -> FakeUser | None:
        return self.users.get(user_id)

    def bot_permissions_in(self, channel: FakeChannel) -> int:
        """The bot's grant minus its denies; Administrator overrides denies, as in Discord.
        In a thread, what the parent allows, as threads derive it."""
        if channel.thread is not None:
            parent = self.bot_permissions_in(channel.thread.parent)
            return thread_permissions(parent, channel, self.bot.id)
        allowed = perms.effective(channel.bot_permissions)
        return allowed if allowed == perms.ALL else allowed & ~channel.bot_denied
