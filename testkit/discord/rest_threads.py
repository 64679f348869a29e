"""Thread routes: start a thread from a message or without one, modify and delete a thread,
with Discord's checks (developers/resources/channel, developers/topics/threads)."""

from __future__ import annotations

from aiohttp import web

from . import errors
from . import permissions as perms
from .responses import json_response, path_id
from .rest_channels import visible_channel
from .server import Route
from .state import FakeState
from .thread_rules import ThreadFields, validate_edit, validate_start
from .world import PUBLIC_THREAD, TEXT_CHANNEL, FakeChannel

CREATED = 201


class ThreadRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.world = state.world
        self.threads = state.threads

    def routes(self) -> list[Route]:
        return [
            Route(
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self.start_from_message,
                major="channel_id",
            ),
            Route("POST", "/channels/{channel_id}/threads", self.start, major="channel_id"),
            Route("PATCH", "/channels/{channel_id}", self.edit, major="channel_id"),
            Route("DELETE", "/channels/{channel_id}", self.delete, major="channel_id"),
        ]

    def _parent(self, request: web.Request) -> tuple[FakeChannel, int]:
        """A guild text channel: threads cannot hold threads, DMs have none (50024)."""
        channel, bot_perms = visible_channel(self.world, request)
        if channel.guild is None or channel.type != TEXT_CHANNEL:
            raise errors.invalid_channel_type()
        return channel, bot_perms

    async def start_from_message(self, request: web.Request) -> web.Response:
        """A public thread that shares the message's id; one per message (160004)."""
        channel, bot_perms = self._parent(request)
        if not perms.has(bot_perms, perms.CREATE_PUBLIC_THREADS):
            raise errors.missing_permissions()
        message = self.state.store.live(path_id(request, "message_id"))
        if message is None or message.channel_id != channel.id or message.ephemeral:
            raise errors.unknown_message()
        body = await self.state.bodies.read(request, file_limit=0)
        fields = validate_start(body.payload, with_message=True)
        if message.thread is not None:
            raise errors.thread_already_created()
        thread = self.threads.start(
            channel,
            fields.name or "",
            owner=self.world.bot,
            message=message,
            auto_archive_duration=fields.auto_archive_duration or 1440,
            rate_limit_per_user=fields.rate_limit_per_user or 0,
        )
        return json_response(self.state.payloads.channel(thread), CREATED)

    async def start(self, request: web.Request) -> web.Response:
        """A thread not started from a message: private unless ``type`` says 11."""
        channel, bot_perms = self._parent(request)
        body = await self.state.bodies.read(request, file_limit=0)
        fields = validate_start(body.payload, with_message=False)
        kind = fields.kind or PUBLIC_THREAD
        needed = perms.CREATE_PUBLIC_THREADS
        if kind != PUBLIC_THREAD:
            needed = perms.CREATE_PRIVATE_THREADS
        if not perms.has(bot_perms, needed):
            raise errors.missing_permissions()
        thread = self.threads.start(
            channel,
            fields.name or "",
            owner=self.world.bot,
            kind=kind,
            auto_archive_duration=fields.auto_archive_duration or 1440,
            rate_limit_per_user=fields.rate_limit_per_user or 0,
            invitable=fields.invitable is not False,
        )
        return json_response(self.state.payloads.channel(thread), CREATED)

    def _thread(self, request: web.Request) -> tuple[FakeChannel, int]:
        """The fake modifies and deletes threads only; other channels answer 404 here."""
        channel, bot_perms = visible_channel(self.world, request)
        if channel.thread is None:
            raise errors.route_not_found()
        return channel, bot_perms

    async def edit(self, request: web.Request) -> web.Response:
        thread, bot_perms = self._thread(request)
        body = await self.state.bodies.read(request, file_limit=0)
        fields = validate_edit(body.payload)
        self._check_edit(thread, bot_perms, fields)
        state = thread.thread
        assert state is not None
        if fields.name is not None:
            thread.name = fields.name
        if fields.auto_archive_duration is not None:
            state.auto_archive_duration = fields.auto_archive_duration
        if fields.rate_limit_per_user is not None:
            state.rate_limit_per_user = fields.rate_limit_per_user
        if fields.invitable is not None:
            state.invitable = fields.invitable
        if fields.archived is not None and fields.archived != state.archived:
            self.threads.set_archived(
                thread, fields.archived, by=self.world.bot.id, locked=fields.locked
            )
        else:
            if fields.locked is not None:
                state.locked = fields.locked
            self.threads.changed(thread)
        return json_response(self.state.payloads.channel(thread))

    def _check_edit(self, thread: FakeChannel, bot_perms: int, fields: ThreadFields) -> None:
        """Discord's "Editing & Deleting Threads": unarchiving needs thread membership (and,
        when locked, being its creator or Manage Threads); name, archive and auto-archive
        changes need Manage Threads or being the creator; lock and slowmode need Manage
        Threads. An archived thread takes no other change unless it is unarchived too."""
        state = thread.thread
        assert state is not None
        bot_id = self.world.bot.id
        manages = perms.has(bot_perms, perms.MANAGE_THREADS)
        creator = state.owner_id == bot_id
        if (fields.locked is not None or fields.rate_limit_per_user is not None) and not manages:
            raise errors.missing_permissions()
        unarchiving = state.archived and fields.archived is False
        if unarchiving:
            allowed = (creator or manages) if state.locked else bot_id in state.members or manages
            if not allowed:
                raise errors.missing_permissions()
        elif state.archived:
            raise errors.archived_thread()
        changes_shape = fields.name is not None or fields.auto_archive_duration is not None
        if (changes_shape or fields.archived) and not (creator or manages):
            raise errors.missing_permissions()

    async def delete(self, request: web.Request) -> web.Response:
        """Deleting a thread needs Manage Threads; Discord answers the deleted channel."""
        thread, bot_perms = self._thread(request)
        if not perms.has(bot_perms, perms.MANAGE_THREADS):
            raise errors.missing_permissions()
        payload = self.state.payloads.channel(thread)
        self.threads.delete(thread)
        return json_response(payload)
