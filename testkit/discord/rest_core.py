"""Login and lookup routes: users, application, gateway discovery, guilds, DMs, CDN files."""

from __future__ import annotations

from aiohttp import web

from . import errors
from .errors import FormErrors
from .responses import as_id, json_response, path_id
from .server import Route
from .state import FakeState
from .world import FakeGuild


class CoreRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.world = state.world
        self.payloads = state.payloads

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/users/@me", self.me),
            Route("GET", "/users/@me/guilds", self.my_guilds),
            Route("GET", "/users/{user_id}", self.user),
            Route("GET", "/oauth2/applications/@me", self.application),
            Route("GET", "/applications/@me", self.application),
            Route("GET", "/gateway", self.gateway, auth=False),
            Route("GET", "/gateway/bot", self.gateway_bot),
            Route("GET", "/guilds/{guild_id}", self.guild, major="guild_id"),
            Route("GET", "/guilds/{guild_id}/channels", self.guild_channels, major="guild_id"),
            Route("GET", "/guilds/{guild_id}/roles", self.guild_roles, major="guild_id"),
            Route("GET", "/guilds/{guild_id}/members/{user_id}", self.member, major="guild_id"),
            Route("POST", "/users/@me/channels", self.open_dm),
        ]

    async def me(self, request: web.Request) -> web.Response:
        return json_response(self.payloads.current_user())

    async def my_guilds(self, request: web.Request) -> web.Response:
        """The bot's guilds by id, a page of ``limit`` (1-200, default 200) ``before`` or
        ``after`` an id, as Discord pages them."""
        query = request.query
        limit = as_id(query.get("limit", "200"))
        if not 1 <= limit <= 200:
            form = FormErrors()
            form.add(["limit"], "NUMBER_TYPE_MAX", "int value should be between 1 and 200.")
            form.raise_if_any()
        guilds = sorted(self.world.guilds.values(), key=lambda guild: guild.id)
        if "after" in query:
            guilds = [g for g in guilds if g.id > as_id(query["after"])][:limit]
        elif "before" in query:
            guilds = [g for g in guilds if g.id < as_id(query["before"])][-limit:]
        else:
            guilds = guilds[:limit]
        return json_response([self.payloads.partial_guild(guild) for guild in guilds])

    async def user(self, request: web.Request) -> web.Response:
        user = self.world.user(path_id(request, "user_id"))
        if user is None:
            raise errors.unknown_user()
        return json_response(self.payloads.user(user))

    async def application(self, request: web.Request) -> web.Response:
        return json_response(self.payloads.application())

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.state.hub.base_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        """The recommended shard count and the session start limit (each IDENTIFY so far
        counts against ``remaining``)."""
        config = self.state.config
        total = config.session_start_total
        return json_response(
            {
                "url": self.state.hub.base_url,
                "shards": config.recommended_shards,
                "session_start_limit": {
                    "total": total,
                    "remaining": max(0, total - self.state.hub.identify_count),
                    "reset_after": 86_400_000,
                    "max_concurrency": config.max_concurrency,
                },
            }
        )

    def _guild(self, request: web.Request) -> FakeGuild:
        guild_id = path_id(request, "guild_id")
        if guild_id in self.world.departed:
            raise errors.missing_access()
        guild = self.world.guild(guild_id)
        if guild is None:
            raise errors.unknown_guild()
        return guild

    async def guild(self, request: web.Request) -> web.Response:
        payload = self.payloads.guild(self._guild(request), members_intent=False)
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            payload.pop(key, None)
        return json_response(payload)

    async def guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([self.payloads.channel(c) for c in guild.channels.values()])

    async def guild_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([self.payloads.role(r) for r in guild.roles.values()])

    async def member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        user_id = path_id(request, "user_id")
        if user_id == self.world.bot.id:
            return json_response(self.payloads.bot_member(guild))
        member = guild.members.get(user_id)
        if member is None:
            raise errors.unknown_member()
        return json_response(self.payloads.member(member))

    async def open_dm(self, request: web.Request) -> web.Response:
        body = await self.state.bodies.read(request, file_limit=0)
        user = self.world.user(as_id(body.payload.get("recipient_id")))
        if user is None:
            raise errors.unknown_user()
        return json_response(self.payloads.channel(self.world.dm_channel(user)))

    async def cdn(self, request: web.Request) -> web.StreamResponse:
        """Serve an uploaded attachment, so ``Attachment.read()`` works against the fake."""
        channel_id = path_id(request, "channel_id")
        attachment_id = path_id(request, "attachment_id")
        for message in self.state.store.channel(channel_id, include_deleted=True):
            for attachment in message.attachments:
                if attachment.id == attachment_id:
                    if attachment.path is not None:
                        return web.FileResponse(attachment.path)
                    return web.Response(
                        body=attachment.read(), content_type=attachment.content_type
                    )
        return web.Response(status=404, text="Not Found")
