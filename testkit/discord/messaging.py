"""Creating, editing and deleting messages: records, pings, and the gateway events they cause."""

from __future__ import annotations

from typing import Any

from . import permissions as perms
from .component_store import stored_components
from .drafts import MessageDraft
from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, GatewayHub
from .ids import SnowflakeFactory, snowflake_time, utcnow
from .layout_reading import text_displays
from .mentions import NO_PINGS, Pings, compute_pings
from .messages import MessageStore
from .payloads import Payloads
from .records import (
    IS_COMPONENTS_V2,
    LOADING,
    SUPPRESS_EMBEDS,
    FakeAttachment,
    FakeMessage,
)
from .thread_events import set_archived
from .uploads import UploadedFile
from .world import FakeChannel, FakeUser, World

EDITABLE_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2


class Messenger:
    """The one place messages change, so every path records history and emits events alike."""

    def __init__(
        self,
        world: World,
        store: MessageStore,
        payloads: Payloads,
        hub: GatewayHub,
        ids: SnowflakeFactory,
    ) -> None:
        self.world = world
        self.store = store
        self.payloads = payloads
        self.hub = hub
        self.ids = ids

    def create(
        self,
        channel: FakeChannel,
        author: FakeUser,
        draft: MessageDraft,
        *,
        flags: int,
        type: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
        interaction_id: int | None = None,
    ) -> FakeMessage:
        message_id = self.ids.next()
        attachments = self._attachments(draft, [])
        message = FakeMessage(
            id=message_id,
            channel=channel,
            author=author,
            created_at=snowflake_time(message_id),
            content=draft.value("content", ""),
            embeds=draft.embed_list,
            components=stored_components(draft.component_list, attachments),
            attachments=attachments,
            flags=flags,
            tts=draft.speaks,
            type=type,
            nonce=draft.value("nonce", None),
            message_reference=self._reference(channel, draft.value("message_reference", None)),
            allowed_mentions=draft.value("allowed_mentions", None),
            webhook_id=webhook_id,
            interaction_metadata=interaction_metadata,
            interaction_id=interaction_id,
        )
        message.history.append(message.snapshot(message.created_at))
        if not message.loading:
            message.pings = self._pings(message)
        if not message.ephemeral:
            self._posted_in_thread(channel, author)
        self.store.add(message)
        self._emit("MESSAGE_CREATE", message, include_nonce=True)
        return message

    def refresh(self, message: FakeMessage) -> None:
        """MESSAGE_UPDATE for a change Discord makes itself (e.g. a thread started from the
        message), which is not an edit: no history, no ``edited_timestamp``."""
        self.store.changed(message)
        self._emit("MESSAGE_UPDATE", message)

    def _posted_in_thread(self, channel: FakeChannel, author: FakeUser) -> None:
        """A post counts in the thread, makes its author a thread member and unarchives it
        (Discord's threads topic: "Sending a message will automatically unarchive the
        thread, unless the thread has been locked by a moderator"; callers refuse that)."""
        thread = channel.thread
        if thread is None:
            return
        thread.message_count += 1
        thread.total_message_sent += 1
        thread.members.setdefault(author.id, utcnow())
        if thread.archived:
            set_archived(self.hub, self.payloads, self.world, channel, False)

    def edit(self, message: FakeMessage, draft: MessageDraft) -> None:
        """Apply only the fields the request carried; a loading response becomes a message."""
        if draft.given("content"):
            message.content = draft.value("content", "")
        if draft.given("embeds"):
            message.embeds = draft.embed_list
        if draft.given("attachments") or draft.files:
            message.attachments = self._attachments(draft, message.attachments)
        if draft.given("components"):
            message.components = draft.component_list
        message.components = stored_components(message.components, message.attachments)
        if draft.given("allowed_mentions"):
            message.allowed_mentions = draft.value("allowed_mentions", None)
        if draft.given("flags"):
            editable = draft.flag_bits & EDITABLE_FLAGS
            message.flags = (message.flags & ~SUPPRESS_EMBEDS) | editable
        first_content = message.loading
        message.flags &= ~LOADING
        message.edited_at = None if first_content else utcnow()
        message.history.append(message.snapshot(message.edited_at or utcnow()))
        if first_content:
            message.pings = self._pings(message)
        self.store.changed(message)
        self._emit("MESSAGE_UPDATE", message)

    def delete(self, message: FakeMessage) -> None:
        message.deleted = True
        message.deleted_at = utcnow()
        thread = message.channel.thread
        if thread is not None and not message.ephemeral:
            thread.message_count = max(thread.message_count - 1, 0)
        self.store.changed(message)
        if message.ephemeral:
            return
        data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        self.hub.dispatch(
            "MESSAGE_DELETE",
            data,
            guild_id=message.guild_id,
            intent=self._intent(message.channel),
        )

    def render(self, message: FakeMessage, *, include_nonce: bool = False) -> dict[str, Any]:
        return self.payloads.message(
            message,
            mentions=self.current_mentions(message),
            referenced=self._referenced(message),
            include_nonce=include_nonce,
        )

    def current_mentions(self, message: FakeMessage) -> Pings:
        """Mentions as the message shows them now (``mentions``/``mention_roles`` fields)."""
        return self._pings(message)

    def _emit(self, event: str, message: FakeMessage, *, include_nonce: bool = False) -> None:
        """Gateway event for a visible message; without the Message Content intent a user's
        guild message arrives blank unless it mentions the bot, as Discord sends it."""
        if message.ephemeral or message.loading:
            return
        payload = self.payloads.message(
            message,
            mentions=self.current_mentions(message),
            referenced=self._referenced(message),
            include_nonce=include_nonce,
            gateway=True,
        )
        blanked = None
        if self._content_is_privileged(message, payload):
            blank = {"content": "", "embeds": [], "attachments": [], "components": []}
            blanked = (MESSAGE_CONTENT, {**payload, **blank})
        self.hub.dispatch(
            event,
            payload,
            guild_id=message.guild_id,
            intent=self._intent(message.channel),
            unless_intent=blanked,
        )

    def _content_is_privileged(self, message: FakeMessage, payload: dict[str, Any]) -> bool:
        bot_id = str(self.world.bot.id)
        return (
            message.channel.guild is not None
            and message.author.id != self.world.bot.id
            and all(user["id"] != bot_id for user in payload["mentions"])
        )

    @staticmethod
    def _intent(channel: FakeChannel) -> int:
        return GUILD_MESSAGES if channel.guild is not None else DIRECT_MESSAGES

    def _pings(self, message: FakeMessage) -> Pings:
        if message.ephemeral:
            return NO_PINGS
        channel = message.channel
        guild = channel.guild
        if message.author.id == self.world.bot.id:
            author_perms = self.world.bot_permissions_in(channel)
        elif guild is not None and message.author.id in guild.members:
            author_perms = guild.members[message.author.id].permissions_in(channel)
        else:
            author_perms = 0
        referenced = self._referenced(message)
        return compute_pings(
            "\n".join([message.content, *text_displays(message.components)]),
            message.allowed_mentions,
            can_mention_everyone=guild is not None
            and perms.has(author_perms, perms.MENTION_EVERYONE),
            mentionable_roles=[r.id for r in guild.roles.values() if r.mentionable]
            if guild
            else [],
            guild_role_ids=[r for r in guild.roles if r != guild.id] if guild else [],
            replied_user_id=referenced.author.id if referenced else None,
        )

    def _referenced(self, message: FakeMessage) -> FakeMessage | None:
        reference = message.message_reference
        if not reference or reference.get("message_id") is None:
            return None
        found = self.store.live(int(reference["message_id"]))
        return found if found is not None and found.channel_id == message.channel_id else None

    def _reference(
        self, channel: FakeChannel, reference: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if not reference:
            return None
        resolved: dict[str, Any] = {
            "type": reference.get("type", 0),
            "channel_id": str(reference.get("channel_id") or channel.id),
            "message_id": str(reference["message_id"]),
        }
        if channel.guild is not None:
            resolved["guild_id"] = str(reference.get("guild_id") or channel.guild.id)
        return resolved

    def _attachments(
        self, draft: MessageDraft, existing: list[FakeAttachment]
    ) -> list[FakeAttachment]:
        attachments: list[FakeAttachment] = []
        for planned in draft.attachment_plan(existing):
            if planned.upload is not None:
                attachments.append(self._attachment(planned.upload, planned.entry))
            elif planned.kept is not None:
                attachments.append(planned.kept)
        return attachments

    def _attachment(self, upload: UploadedFile, entry: dict[str, Any]) -> FakeAttachment:
        return FakeAttachment(
            id=self.ids.next(),
            filename=str(entry.get("filename") or upload.filename),
            size=upload.size,
            content_type=upload.content_type,
            description=entry.get("description"),
            data=upload.data,
            path=upload.path,
        )
