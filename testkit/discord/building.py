"""Building the fake's world: guilds, roles, channels, members and their permissions, each
change announced to the bot on the gateway as Discord announces it."""

from __future__ import annotations

from collections.abc import Sequence

from . import permissions as perms
from .errors import FakeDiscordUsageError
from .gateway import GUILD_MEMBERS, GUILDS
from .ids import shard_of
from .state import FakeState
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, World


class WorldBuilding:
    """``FakeDiscord``'s world-building methods."""

    _state: FakeState
    _world: World

    def add_guild(
        self,
        name: str,
        *,
        upload_limit: int | None = None,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild the bot is in; ``upload_limit`` (bytes) defaults to the fake's default.
        ``shard=(shard_id, shard_count)`` picks an id that puts it on that shard."""
        guild = self._world.add_guild(name, upload_limit=upload_limit, shard=shard)
        self._state.hub.announce_guild(guild)
        return guild

    def set_application_flags(self, flags: int) -> None:
        """The application's flags, as the Developer Portal sets them: e.g. 0 turns every
        privileged intent off (``GET /applications/@me`` and READY report them)."""
        self._world.application_flags = flags

    @staticmethod
    def shard_of(guild: FakeGuild, shard_count: int) -> int:
        """The shard of ``shard_count`` that receives the guild's events."""
        return shard_of(guild.id, shard_count)

    def add_role(
        self,
        guild: FakeGuild,
        name: str,
        *,
        permissions: perms.PermissionsLike = 0,
        mentionable: bool = False,
    ) -> FakeRole:
        role = self._world.add_role(
            guild, name, permissions=perms.as_int(permissions), mentionable=mentionable
        )
        self._state.hub.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": self._state.payloads.role(role)},
            guild_id=guild.id,
            intent=GUILDS,
        )
        return role

    def add_text_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        bot_permissions: perms.PermissionsLike = perms.DEFAULT_BOT,
        topic: str | None = None,
    ) -> FakeChannel:
        """A text channel; the bot holds exactly ``bot_permissions`` there (enforced, and
        sent as ``app_permissions`` and as the bot's permission overwrite)."""
        channel = self._world.add_text_channel(
            guild, name, bot_permissions=perms.as_int(bot_permissions), topic=topic
        )
        self._state.hub.dispatch(
            "CHANNEL_CREATE",
            self._state.payloads.channel(channel),
            guild_id=guild.id,
            intent=GUILDS,
        )
        return channel

    def add_member(
        self,
        guild: FakeGuild,
        name: str,
        *,
        roles: Sequence[FakeRole] = (),
        permissions: perms.PermissionsLike = perms.DEFAULT_MEMBER,
        user: FakeUser | None = None,
        accepts_dms: bool = True,
    ) -> FakeMember:
        """A member (a new user unless ``user`` is given); their permissions in a channel are
        ``permissions`` plus their roles' (Administrator implies all)."""
        user = user or self._world.add_user(name, accepts_dms=accepts_dms)
        member = self._world.add_member(
            guild, user, roles=list(roles), permissions=perms.as_int(permissions)
        )
        payload = {**self._state.payloads.member(member), "guild_id": str(guild.id)}
        self._state.hub.dispatch(
            "GUILD_MEMBER_ADD", payload, guild_id=guild.id, intent=GUILD_MEMBERS
        )
        for channel in guild.channels.values():
            self._announce_channel(channel)
        return member

    def remove_member(self, guild: FakeGuild, member: FakeMember) -> None:
        """The member leaves (or is kicked): GUILD_MEMBER_REMOVE; afterwards they can no
        longer invoke commands or press buttons there (a usage error), as on Discord,
        where a former member no longer sees the server's channels."""
        if guild.members.pop(member.user.id, None) is None:
            raise FakeDiscordUsageError(f"{member.user.username} is not a member of {guild.name}")
        payload = {"guild_id": str(guild.id), "user": self._state.payloads.user(member.user)}
        self._state.hub.dispatch(
            "GUILD_MEMBER_REMOVE", payload, guild_id=guild.id, intent=GUILD_MEMBERS
        )

    def set_bot_permissions(self, channel: FakeChannel, permissions: perms.PermissionsLike) -> None:
        _not_a_thread(channel)
        channel.bot_permissions = perms.as_int(permissions)
        channel.bot_denied &= ~channel.bot_permissions
        self._announce_channel(channel)

    def remove_bot_from_guild(self, guild: FakeGuild) -> None:
        """The bot is kicked (or the guild deleted): GUILD_DELETE without ``unavailable``,
        which is how Discord says the bot was removed; afterwards its REST calls to the
        guild and its channels answer 403/50001 Missing Access."""
        self._world.remove_guild(guild)
        self._state.hub.dispatch(
            "GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id, intent=GUILDS
        )

    def delete_channel(self, channel: FakeChannel) -> None:
        """A moderator deletes the channel: CHANNEL_DELETE with the full channel object;
        afterwards the channel's routes (and its threads') answer 404/10003 Unknown Channel."""
        _not_a_thread(channel)
        payload = self._state.payloads.channel(channel)
        self._world.delete_channel(channel)
        self._state.hub.dispatch(
            "CHANNEL_DELETE", payload, guild_id=channel.guild_id, intent=GUILDS
        )

    def revoke_channel_access(self, channel: FakeChannel) -> None:
        """A moderator denies the bot View Channel there: CHANNEL_UPDATE whose bot overwrite
        denies it; afterwards the channel's routes answer 403/50001 Missing Access."""
        _not_a_thread(channel)
        channel.bot_permissions &= ~perms.VIEW_CHANNEL
        channel.bot_denied |= perms.VIEW_CHANNEL
        self._announce_channel(channel)

    def set_member_overwrite(
        self,
        channel: FakeChannel,
        member: FakeMember,
        *,
        allow: perms.PermissionsLike = 0,
        deny: perms.PermissionsLike = 0,
    ) -> None:
        """The member's permission overwrite in one channel (e.g. Manage Messages there only),
        announced as CHANNEL_UPDATE like Discord does."""
        _not_a_thread(channel)
        channel.member_overwrites[member.id] = (perms.as_int(allow), perms.as_int(deny))
        self._announce_channel(channel)

    def _announce_channel(self, channel: FakeChannel) -> None:
        self._state.hub.dispatch(
            "CHANNEL_UPDATE",
            self._state.payloads.channel(channel),
            guild_id=channel.guild_id,
            intent=GUILDS,
        )


def _not_a_thread(channel: FakeChannel) -> None:
    """Threads have no permission overwrites of their own: set them on the parent."""
    if channel.thread is not None:
        raise FakeDiscordUsageError(f"#{channel.name} is a thread; change its parent channel")
