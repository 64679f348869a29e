"""Channel routes: create, read, edit and delete messages with Discord's checks in its order."""

from __future__ import annotations

from aiohttp import web

from . import errors
from . import permissions as perms
from .drafts import MessageDraft
from .errors import FormErrors
from .records import IS_COMPONENTS_V2, SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, FakeMessage
from .responses import as_id, json_response, no_content, path_id
from .server import Handler, Route
from .state import FakeState
from .uploads import UploadedFile, discard
from .validation import validate_message, would_be_empty
from .world import FakeChannel, World

MESSAGES_BUCKET = "channel-messages"
CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
REPLY = 19


def visible_channel(world: World, request: web.Request) -> tuple[FakeChannel, int]:
    """The channel (or thread) and the bot's permissions in it: 10003 for a deleted one,
    50001 for one the bot cannot view or whose guild it was removed from, as Discord
    answers. A thread is seen through its parent's permissions."""
    channel = world.channel(path_id(request, "channel_id"))
    if channel is None:
        raise errors.unknown_channel()
    if world.is_departed(channel):
        raise errors.missing_access()
    bot_perms = world.bot_permissions_in(channel)
    if channel.guild is not None and not perms.has(bot_perms, perms.VIEW_CHANNEL):
        raise errors.missing_access()
    return channel, bot_perms


def may_send(channel: FakeChannel, bot_perms: int) -> bool:
    """Send Messages in a channel; Send Messages in Threads in a thread, where Send Messages
    "has no effect" (Discord's threads topic)."""
    if channel.guild is None:
        return True
    needed = perms.SEND_MESSAGES_IN_THREADS if channel.thread else perms.SEND_MESSAGES
    return perms.has(bot_perms, needed)


def check_thread_open(channel: FakeChannel, bot_perms: int, *, editing: bool) -> None:
    """Locked threads take no new or edited messages from those who cannot manage threads
    (160005); an archived thread takes no edits (50083), while a new message unarchives it."""
    thread = channel.thread
    if thread is None:
        return
    if editing and thread.archived:
        raise errors.archived_thread()
    if thread.locked and not perms.has(bot_perms, perms.MANAGE_THREADS):
        raise errors.thread_locked()


class ChannelRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.world = state.world
        self.store = state.store
        self.messenger = state.messenger

    def routes(self) -> list[Route]:
        message = "/channels/{channel_id}/messages/{message_id}"

        def shared(method: str, path: str, handler: Handler) -> Route:
            """The message routes that share the channel's bucket and fail in an outage."""
            return Route(
                method,
                path,
                handler,
                bucket=MESSAGES_BUCKET,
                major="channel_id",
                channel_bucket=True,
                outage=True,
            )

        return [
            Route("GET", "/channels/{channel_id}", self.get_channel, major="channel_id"),
            Route("POST", "/channels/{channel_id}/typing", self.typing, major="channel_id"),
            Route(
                "GET",
                "/channels/{channel_id}/messages",
                self.history,
                major="channel_id",
                outage=True,
            ),
            shared("POST", "/channels/{channel_id}/messages", self.create),
            Route("GET", message, self.get_message, major="channel_id", outage=True),
            shared("PATCH", message, self.edit),
            shared("DELETE", message, self.delete),
        ]

    def _channel(self, request: web.Request) -> tuple[FakeChannel, int]:
        return visible_channel(self.world, request)

    def _message(self, request: web.Request, channel: FakeChannel) -> FakeMessage:
        message = self.store.live(path_id(request, "message_id"))
        if message is None or message.channel_id != channel.id or message.ephemeral:
            raise errors.unknown_message()
        return message

    async def get_channel(self, request: web.Request) -> web.Response:
        channel, _ = self._channel(request)
        return json_response(self.state.payloads.channel(channel))

    async def typing(self, request: web.Request) -> web.Response:
        channel, bot_perms = self._channel(request)
        if not may_send(channel, bot_perms):
            raise errors.missing_permissions()
        return no_content()

    async def history(self, request: web.Request) -> web.Response:
        """At most `limit` (1–100, default 50) messages, newest first: the newest before
        `before`, the oldest after `after`, those around `around` (the message itself
        among them), or the newest; one of the three at most, as Discord documents.
        Without Read Message History Discord answers an empty list."""
        channel, bot_perms = self._channel(request)
        if channel.guild is not None and not perms.has(bot_perms, perms.READ_MESSAGE_HISTORY):
            return json_response([])
        query = request.query
        limit = as_id(query.get("limit", "50"))
        form = FormErrors()
        if limit < 1:
            form.add(
                ["limit"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1."
            )
        elif limit > 100:
            form.add(["limit"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
        anchors = [name for name in ("around", "before", "after") if name in query]
        for extra in anchors[1:]:
            form.add([extra], "ANCHORS_EXCLUSIVE", "around, before and after are exclusive.")
        form.raise_if_any()
        messages = self.store.channel(channel.id, include_ephemeral=False)
        if "before" in query:
            before = as_id(query["before"])
            picked = [m for m in messages if m.id < before][-limit:]
        elif "after" in query:
            after = as_id(query["after"])
            picked = [m for m in messages if m.id > after][:limit]
        elif "around" in query:
            around = as_id(query["around"])
            older = [m for m in messages if m.id <= around][-(limit // 2 + 1) :]
            picked = older + [m for m in messages if m.id > around][: limit - len(older)]
        else:
            picked = messages[-limit:]
        return json_response([self.messenger.render(m) for m in reversed(picked)])

    async def get_message(self, request: web.Request) -> web.Response:
        channel, bot_perms = self._channel(request)
        if channel.guild is not None and not perms.has(bot_perms, perms.READ_MESSAGE_HISTORY):
            raise errors.missing_permissions()
        return json_response(self.messenger.render(self._message(request, channel)))

    async def create(self, request: web.Request) -> web.Response:
        channel, bot_perms = self._channel(request)
        recipient = channel.recipient
        if recipient is not None and not (
            recipient.accepts_dms and self.world.shares_guild(recipient)
        ):
            raise errors.cannot_message_user()
        if not may_send(channel, bot_perms):
            raise errors.missing_permissions()
        check_thread_open(channel, bot_perms, editing=False)
        body = await self.state.bodies.read(
            request, file_limit=self.state.upload_limit(channel.guild_id)
        )
        await self._upload_time(body.files)
        try:
            draft = MessageDraft.from_payload(body.payload, body.files)
            validate_message(draft, creating=True)
            self._check_content_permissions(draft, bot_perms)
            reference = self._check_reference(channel, draft, bot_perms)
            nonce = draft.value("nonce", None)
            if nonce is not None and draft.enforces_nonce:
                earlier = self.store.recall_nonce(channel.id, self.world.bot.id, str(nonce))
                if earlier is not None:
                    discard(body.files)
                    return json_response(self.messenger.render(earlier, include_nonce=True))
        except errors.DiscordHTTPError:
            discard(body.files)
            raise
        message = self.messenger.create(
            channel,
            self.world.bot,
            draft,
            flags=draft.flag_bits & CREATE_FLAGS,
            type=REPLY if reference else 0,
        )
        if nonce is not None:
            self.store.remember_nonce(message, str(nonce))
        return json_response(self.messenger.render(message, include_nonce=True))

    async def _upload_time(self, files: list[UploadedFile]) -> None:
        """While uploads are held (`FakeDiscord.hold_uploads`), a message with files is
        answered only once they are let go; it is still created then, as Discord posts
        an upload that arrived whole even if the client stopped waiting."""
        gate = self.state.upload_gate
        if not files or gate is None:
            return
        self.state.uploads_waiting += 1
        try:
            await gate.wait()
        finally:
            self.state.uploads_waiting -= 1

    async def edit(self, request: web.Request) -> web.Response:
        channel, bot_perms = self._channel(request)
        message = self._message(request, channel)
        if message.author.id != self.world.bot.id:
            raise errors.cannot_edit_other_author()
        check_thread_open(channel, bot_perms, editing=True)
        body = await self.state.bodies.read(
            request, file_limit=self.state.upload_limit(channel.guild_id)
        )
        try:
            draft = MessageDraft.from_payload(body.payload, body.files)
            validate_message(draft, creating=False, existing=message)
            self._check_content_permissions(draft, bot_perms)
            if would_be_empty(message, draft):
                raise errors.empty_message()
        except errors.DiscordHTTPError:
            discard(body.files)
            raise
        self.messenger.edit(message, draft)
        return json_response(self.messenger.render(message))

    async def delete(self, request: web.Request) -> web.Response:
        channel, bot_perms = self._channel(request)
        message = self._message(request, channel)
        if message.author.id != self.world.bot.id and not perms.has(
            bot_perms, perms.MANAGE_MESSAGES
        ):
            raise errors.missing_permissions()
        thread, manages = channel.thread, perms.has(bot_perms, perms.MANAGE_THREADS)
        if thread is not None and thread.archived and thread.locked and not manages:
            raise errors.archived_thread()
        self.messenger.delete(message)
        return no_content()

    @staticmethod
    def _check_content_permissions(draft: MessageDraft, bot_perms: int) -> None:
        if draft.embed_list and not perms.has(bot_perms, perms.EMBED_LINKS):
            raise errors.missing_permissions()
        if draft.files and not perms.has(bot_perms, perms.ATTACH_FILES):
            raise errors.missing_permissions()

    def _check_reference(
        self, channel: FakeChannel, draft: MessageDraft, bot_perms: int
    ) -> FakeMessage | None:
        reference = draft.value("message_reference", None)
        if not reference:
            return None
        if channel.guild is not None and not perms.has(bot_perms, perms.READ_MESSAGE_HISTORY):
            raise errors.reply_without_history()
        target = self.store.live(as_id(reference.get("message_id")))
        if target is not None and target.channel_id == channel.id and not target.ephemeral:
            return target
        if reference.get("fail_if_not_exists", True):
            form = FormErrors()
            form.add(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            form.raise_if_any()
        draft.message_reference = None
        return None
