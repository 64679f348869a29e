"""Discord JSON shapes for the world's objects, as REST and the gateway send them."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from . import permissions as perms
from .ids import iso
from .mentions import Pings
from .records import FakeAttachment, FakeMessage
from .world import (
    DM_CHANNEL,
    PRIVATE_THREAD,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    World,
)


class Payloads:
    """Builds payloads from the world; one place so REST, gateway and interactions agree."""

    def __init__(self, world: World, cdn_base: str) -> None:
        self.world = world
        self.cdn_base = cdn_base

    def user(self, user: FakeUser) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(user.id),
            "username": user.username,
            "global_name": user.global_name,
            "discriminator": user.discriminator,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if user.bot:
            payload["bot"] = True
        return payload

    def current_user(self) -> dict[str, Any]:
        """``GET /users/@me`` and READY's ``user``: the bot with its private fields."""
        return {
            **self.user(self.world.bot),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
            "bio": "",
        }

    def application(self) -> dict[str, Any]:
        app_id = str(self.world.application_id)
        return {
            "id": app_id,
            "name": self.world.bot.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": self.world.application_flags,
            "owner": self.user(self.world.owner),
            "team": None,
            "hook": True,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self.world.guilds),
            "integration_types_config": {"0": {}},
            "bot": self.user(self.world.bot),
        }

    def partial_guild(self, guild: FakeGuild) -> dict[str, Any]:
        """``GET /users/@me/guilds``: the guild as the bot's list shows it, with the bot's
        own permissions there (its roles', as in Discord; the bot has none in the fake, so
        @everyone's) and the approximate counts."""
        permissions = guild.everyone.permissions
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "banner": None,
            "owner": False,
            "permissions": str(perms.effective(permissions)),
            "features": [],
            "approximate_member_count": len(guild.members) + 1,
            "approximate_presence_count": 0,
        }

    def role(self, role: FakeRole) -> dict[str, Any]:
        return {
            "id": str(role.id),
            "name": role.name,
            "color": role.color,
            "colors": {
                "primary_color": role.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": role.position,
            "permissions": str(role.permissions),
            "managed": False,
            "mentionable": role.mentionable,
            "flags": 0,
        }

    def member(self, member: FakeMember, *, with_user: bool = True) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "roles": [str(r.id) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            payload["user"] = self.user(member.user)
        return payload

    def bot_member(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            "user": self.user(self.world.bot),
            "roles": [],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": iso(guild.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def channel(self, channel: FakeChannel) -> dict[str, Any]:
        if channel.type == DM_CHANNEL:
            assert channel.recipient is not None
            return {
                "id": str(channel.id),
                "type": DM_CHANNEL,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.user(channel.recipient)],
            }
        assert channel.guild is not None
        if channel.thread is not None:
            return self.thread(channel)
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild.id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": None,
            "topic": channel.topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "permission_overwrites": self.overwrites(channel),
        }

    def thread(self, channel: FakeChannel) -> dict[str, Any]:
        """A thread channel object: the parent and starter, counts, ``thread_metadata``, and
        the bot's thread ``member`` when it is one (threads carry no overwrites)."""
        thread = channel.thread
        assert thread is not None
        assert channel.guild is not None
        metadata: dict[str, Any] = {
            "archived": thread.archived,
            "auto_archive_duration": thread.auto_archive_duration,
            "archive_timestamp": iso(thread.archive_timestamp),
            "locked": thread.locked,
            "create_timestamp": iso(thread.created_at),
        }
        if thread.archiver_id is not None:
            metadata["archiver_id"] = str(thread.archiver_id)
        if channel.type == PRIVATE_THREAD:
            metadata["invitable"] = thread.invitable
        payload: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild.id),
            "parent_id": str(thread.parent.id),
            "owner_id": str(thread.owner_id),
            "name": channel.name,
            "last_message_id": None,
            "rate_limit_per_user": thread.rate_limit_per_user,
            "flags": 0,
            "message_count": thread.message_count,
            "member_count": min(len(thread.members), 50),
            "total_message_sent": thread.total_message_sent,
            "thread_metadata": metadata,
        }
        joined = thread.members.get(self.world.bot.id)
        if joined is not None:
            payload["member"] = {
                "id": str(channel.id),
                "user_id": str(self.world.bot.id),
                "join_timestamp": iso(joined),
                "flags": 0,
            }
        return payload

    def overwrites(self, channel: FakeChannel) -> list[dict[str, Any]]:
        """Member overwrites (type 1) granting exactly what the fake enforces, so discord.py's
        own ``permissions_for`` agrees with the fake (@everyone has no permissions); the bot's
        carries the denies of ``revoke_channel_access``."""
        assert channel.guild is not None
        grants = [(self.world.bot.id, channel.bot_permissions, channel.bot_denied)]
        for member in channel.guild.members.values():
            allow, deny = channel.member_overwrites.get(member.id, (0, 0))
            grants.append((member.id, member.permissions | allow, deny))
        return [
            {"id": str(user_id), "type": 1, "allow": str(allow), "deny": str(deny)}
            for user_id, allow, deny in grants
        ]

    def guild(self, guild: FakeGuild, *, members_intent: bool) -> dict[str, Any]:
        """GUILD_CREATE's guild: without the members intent only the bot's own member."""
        members = [self.bot_member(guild)]
        if members_intent:
            members += [self.member(m) for m in guild.members.values()]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": guild.premium_tier,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": guild.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "roles": [self.role(r) for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "joined_at": iso(guild.joined_at),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(guild.members) + 1,
            "members": members,
            "channels": [self.channel(c) for c in guild.channels.values()],
            "threads": [
                self.channel(t)
                for t in guild.threads.values()
                if not t.archived and self.world.bot_permissions_in(t)
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "incidents_data": None,
        }

    def attachment(
        self, channel_id: int, attachment: FakeAttachment, *, ephemeral: bool
    ) -> dict[str, Any]:
        url = self.attachment_url(channel_id, attachment)
        payload: dict[str, Any] = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": url,
            "proxy_url": url,
            "content_type": attachment.content_type,
            "content_scan_version": 2,
        }
        if attachment.description is not None:
            payload["description"] = attachment.description
        if ephemeral:
            payload["ephemeral"] = True
        return payload

    def attachment_url(self, channel_id: int, attachment: FakeAttachment) -> str:
        expires = int(time.time()) + 86400
        return (
            f"{self.cdn_base}/attachments/{channel_id}/{attachment.id}/"
            f"{quote(attachment.filename)}?ex={expires:x}&is={int(time.time()):x}"
            f"&hm={secrets.token_hex(32)}&"
        )

    def message(
        self,
        message: FakeMessage,
        *,
        mentions: Pings,
        referenced: FakeMessage | None = None,
        include_nonce: bool = False,
        gateway: bool = False,
    ) -> dict[str, Any]:
        """A message object; gateway events add ``guild_id`` and the author's partial member."""
        payload: dict[str, Any] = {
            "type": message.type,
            "content": message.content,
            "mentions": [
                self.user(user)
                for user_id in sorted(mentions.users)
                if (user := self.world.user(user_id)) is not None
            ],
            "mention_roles": [str(r) for r in sorted(mentions.roles)],
            "attachments": [
                self.attachment(message.channel_id, a, ephemeral=message.ephemeral)
                for a in message.attachments
            ],
            "embeds": message.embeds,
            "timestamp": iso(message.created_at),
            "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
            "flags": message.flags,
            "components": message.components,
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self.user(message.author),
            "pinned": False,
            "mention_everyone": mentions.everyone,
            "tts": message.tts,
        }
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(self.world.application_id)
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.thread is not None and self.world.channel(message.thread.id) is not None:
            payload["thread"] = self.channel(message.thread)
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
            payload["referenced_message"] = (
                self.message(referenced, mentions=Pings()) if referenced else None
            )
        if include_nonce and message.nonce is not None:
            payload["nonce"] = message.nonce
        if gateway and message.channel.guild is not None:
            payload["guild_id"] = str(message.channel.guild.id)
            member = message.channel.guild.members.get(message.author.id)
            if message.author.id == self.world.bot.id:
                payload["member"] = {
                    k: v for k, v in self.bot_member(message.channel.guild).items() if k != "user"
                }
            elif member is not None:
                payload["member"] = self.member(member, with_user=False)
        return payload
