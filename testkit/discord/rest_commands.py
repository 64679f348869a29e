"""Application command routes (global and per guild): sync, list, upsert, edit, delete."""

from __future__ import annotations

import json

from aiohttp import web

from . import errors
from .responses import json_response, no_content, path_id
from .server import Route
from .state import FakeState

GLOBAL = "/applications/{application_id}/commands"
GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"


class CommandRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.commands = state.commands

    def routes(self) -> list[Route]:
        routes = [Route("GET", GUILD + "/permissions", self.permissions, major="guild_id")]
        for base in (GLOBAL, GUILD):
            major = "guild_id" if base == GUILD else None
            routes += [
                Route("GET", base, self.list_commands, major=major),
                Route("PUT", base, self.bulk_overwrite, major=major),
                Route("POST", base, self.upsert, major=major),
                Route("GET", base + "/{command_id}", self.get, major=major),
                Route("PATCH", base + "/{command_id}", self.edit, major=major),
                Route("DELETE", base + "/{command_id}", self.delete, major=major),
            ]
        return routes

    def _scope(self, request: web.Request) -> int | None:
        """The guild (``None`` = global), after checking the caller names its own app."""
        if path_id(request, "application_id") != self.state.world.application_id:
            raise errors.missing_access()
        if "guild_id" not in request.match_info:
            return None
        guild_id = path_id(request, "guild_id")
        if self.state.world.guild(guild_id) is None:
            raise errors.missing_access()
        return guild_id

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.in_scope(self._scope(request)))

    async def bulk_overwrite(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        try:
            raw = json.loads(await request.read() or b"[]")
        except ValueError:
            raise errors.invalid_json() from None
        if not isinstance(raw, list):
            raise errors.invalid_form_body(
                {"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Must be an array."}]}
            )
        return json_response(self.commands.bulk_overwrite(scope, raw))

    async def upsert(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await self.state.bodies.read(request, file_limit=0)
        return json_response(self.commands.upsert(scope, body.payload), status=201)

    async def get(self, request: web.Request) -> web.Response:
        command = self.commands.get(self._scope(request), path_id(request, "command_id"))
        if command is None:
            raise errors.unknown_application_command()
        return json_response(command)

    async def edit(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await self.state.bodies.read(request, file_limit=0)
        command = self.commands.edit(scope, path_id(request, "command_id"), body.payload)
        if command is None:
            raise errors.unknown_application_command()
        return json_response(command)

    async def delete(self, request: web.Request) -> web.Response:
        if not self.commands.delete(self._scope(request), path_id(request, "command_id")):
            raise errors.unknown_application_command()
        return no_content()

    async def permissions(self, request: web.Request) -> web.Response:
        self._scope(request)
        return json_response([])
