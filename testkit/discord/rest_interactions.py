"""Interaction callbacks and the interaction-token webhook (follow-ups, @original, messages)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from . import errors
from .choice_rules import focused_option_type, validate_choices
from .drafts import MessageDraft
from .errors import FormErrors
from .form_checks import as_dict, integer
from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    FakeInteraction,
)
from .modal_rules import validate_modal
from .records import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    CallbackRecord,
    FakeMessage,
)
from .responses import json_response, no_content, path_id, truthy
from .server import Route
from .state import FakeState
from .uploads import UploadedFile, discard
from .validation import validate_message, would_be_empty

RESPONSE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
CHAT_INPUT_COMMAND_MESSAGE = 20


class InteractionRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.world = state.world
        self.messenger = state.messenger

    def routes(self) -> list[Route]:
        webhook = "/webhooks/{application_id}/{token}"
        message = webhook + "/messages/{message_id}"
        callback = "/interactions/{interaction_id}/{token}/callback"
        return [
            Route("POST", callback, self.callback, auth=False, major="interaction_id"),
            Route("POST", webhook, self.followup, auth=False, major="token"),
            Route("GET", message, self.get_message, auth=False, major="token"),
            Route("PATCH", message, self.edit_message, auth=False, major="token"),
            Route("DELETE", message, self.delete_message, auth=False, major="token"),
        ]

    async def callback(self, request: web.Request) -> web.Response:
        """Checked in Discord's order: known → not yet acknowledged → within the deadline."""
        interaction = self.state.interactions.by_id.get(path_id(request, "interaction_id"))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise errors.unknown_interaction()
        arrived = time.monotonic()
        if interaction.acked:
            raise errors.already_acknowledged()
        late = arrived - interaction.dispatched_at > self.state.config.ack_deadline
        if late or arrived > interaction.token_expires_at:
            raise errors.unknown_interaction()
        body = await self.state.bodies.read(request, file_limit=interaction.attachment_size_limit)
        try:
            kind, given = _callback_shape(body.payload)
            data = given or {}
            if kind not in ALLOWED_CALLBACKS[interaction.type]:
                form = FormErrors()
                form.add(
                    ["type"],
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Callback type {kind} is not valid for interaction type {interaction.type}",
                )
                form.raise_if_any()
            if interaction.acked:
                raise errors.already_acknowledged()
            if kind == AUTOCOMPLETE_RESULT:
                interaction.choices = validate_choices(
                    given, focused_option_type(interaction.payload)
                )
            resource = self._respond(interaction, kind, data, body.files)
        except errors.DiscordHTTPError:
            discard(body.files)
            raise
        interaction.callbacks.append(
            CallbackRecord(kind, data, arrived - interaction.dispatched_at)
        )
        interaction.changed()
        if not truthy(request.query.get("with_response")):
            return no_content()
        return json_response(self._callback_response(interaction, kind, resource))

    def _respond(
        self,
        interaction: FakeInteraction,
        kind: int,
        data: dict[str, Any],
        files: list[UploadedFile],
    ) -> FakeMessage | None:
        if kind == CHANNEL_MESSAGE:
            draft = MessageDraft.from_payload(data, files)
            _validate_callback_message(draft, creating=True)
            interaction.original = self._create(interaction, draft, draft.flag_bits)
            return interaction.original
        if kind == DEFERRED_CHANNEL_MESSAGE:
            form = FormErrors()
            flags = LOADING | ((integer(form, data, "flags", ["data"], low=0) or 0) & EPHEMERAL)
            form.raise_if_any()
            interaction.original = self._create(interaction, MessageDraft(), flags)
            return None
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            target = interaction.message
            if target is None or target.deleted:
                raise errors.unknown_message()
            if kind == UPDATE_MESSAGE:
                draft = MessageDraft.from_payload(data, files)
                _validate_callback_message(draft, creating=False, existing=target)
                if would_be_empty(target, draft):
                    raise errors.empty_message()
                self.messenger.edit(target, draft)
            interaction.original = target
            return target if kind == UPDATE_MESSAGE else None
        if kind == MODAL:
            validate_modal(data)
            interaction.modal = data
        return None

    def _create(self, interaction: FakeInteraction, draft: MessageDraft, flags: int) -> FakeMessage:
        original = interaction.original
        return self.messenger.create(
            interaction.channel,
            self.world.bot,
            draft,
            flags=flags & (RESPONSE_FLAGS | LOADING),
            type=CHAT_INPUT_COMMAND_MESSAGE if interaction.type == APPLICATION_COMMAND else 0,
            webhook_id=self.world.application_id,
            interaction_metadata=self.metadata(interaction, original),
            interaction_id=interaction.id,
        )

    def _callback_response(
        self, interaction: FakeInteraction, kind: int, resource: FakeMessage | None
    ) -> dict[str, Any]:
        """The ``with_response`` body discord.py 2.5+ parses into InteractionCallbackResponse."""
        summary: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        original = interaction.original
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE) and original:
            summary["response_message_id"] = str(original.id)
            summary["response_message_loading"] = original.loading
            summary["response_message_ephemeral"] = original.ephemeral
        result: dict[str, Any] = {"interaction": summary, "resource": {"type": kind}}
        if resource is not None:
            result["resource"]["message"] = self.messenger.render(resource)
        return result

    def metadata(
        self, interaction: FakeInteraction, original: FakeMessage | None
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": self.state.payloads.user(interaction.user),
            "authorizing_integration_owners": {"0": str(interaction.channel.guild_id)},
        }
        if interaction.type == APPLICATION_COMMAND:
            meta["name"] = interaction.command_name
            meta["command_type"] = 1
        if interaction.type == MESSAGE_COMPONENT and interaction.message is not None:
            meta["interacted_message_id"] = str(interaction.message.id)
        if interaction.type == MODAL_SUBMIT and interaction.opened_by is not None:
            meta["triggering_interaction_metadata"] = self.metadata(interaction.opened_by, None)
        if original is not None:
            meta["original_response_message_id"] = str(original.id)
        return meta

    def _interaction(self, request: web.Request) -> FakeInteraction:
        """The interaction behind a webhook token; 10015 once the token has expired."""
        if path_id(request, "application_id") != self.world.application_id:
            raise errors.unknown_webhook()
        interaction = self.state.interactions.by_token.get(request.match_info["token"])
        if interaction is None or time.monotonic() > interaction.token_expires_at:
            raise errors.unknown_webhook()
        return interaction

    def _owned_message(self, request: web.Request, interaction: FakeInteraction) -> FakeMessage:
        raw = request.match_info["message_id"]
        if raw == "@original":
            message = interaction.original
        else:
            message = self.state.store.get(path_id(request, "message_id"))
        if message is None or message.deleted or not interaction.owns(message):
            raise errors.unknown_message()
        return message

    async def followup(self, request: web.Request) -> web.Response:
        """After a defer, the first follow-up edits the loading message (Discord's documented
        legacy behaviour, keeping the defer's ephemeral flag); later ones are new messages."""
        interaction = self._interaction(request)
        if not interaction.acked:
            raise errors.unknown_webhook()
        body = await self.state.bodies.read(request, file_limit=interaction.attachment_size_limit)
        try:
            draft = MessageDraft.from_payload(body.payload, body.files)
            validate_message(draft, creating=True)
        except errors.DiscordHTTPError:
            discard(body.files)
            raise
        original = interaction.original
        if (
            original is not None
            and original.loading
            and not original.deleted
            and not interaction.loading_replaced
        ):
            interaction.loading_replaced = True
            self.messenger.edit(original, draft)
            message = original
        else:
            message = self._create(interaction, draft, draft.flag_bits)
        interaction.followups.append(message)
        interaction.changed()
        if truthy(request.query.get("wait")):
            return json_response(self.messenger.render(message))
        return no_content()

    async def get_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        return json_response(self.messenger.render(self._owned_message(request, interaction)))

    async def edit_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        message = self._owned_message(request, interaction)
        body = await self.state.bodies.read(request, file_limit=interaction.attachment_size_limit)
        try:
            draft = MessageDraft.from_payload(body.payload, body.files)
            validate_message(draft, creating=False, existing=message)
            if would_be_empty(message, draft):
                raise errors.empty_message()
        except errors.DiscordHTTPError:
            discard(body.files)
            raise
        self.messenger.edit(message, draft)
        interaction.changed()
        return json_response(self.messenger.render(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        self.messenger.delete(self._owned_message(request, interaction))
        interaction.changed()
        return no_content()


def _callback_shape(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """``type`` (required integer) and ``data`` (an object, ``None`` when not given), or
    50035 before anything else."""
    form = FormErrors()
    kind = integer(form, payload, "type", [])
    if kind is None and "type" not in payload:
        form.add(["type"], "BASE_TYPE_REQUIRED", "This field is required")
    given = payload.get("data")
    data = None if given is None else as_dict(form, given, ["data"])
    form.raise_if_any()
    return kind or 0, data


def _validate_callback_message(
    draft: MessageDraft, *, creating: bool, existing: FakeMessage | None = None
) -> None:
    """A callback's message lives in its ``data``, so Discord's error paths start there."""
    try:
        validate_message(draft, creating=creating, existing=existing)
    except errors.DiscordHTTPError as exc:
        if exc.code != errors.INVALID_FORM_BODY or exc.errors is None:
            raise
        raise errors.invalid_form_body({"data": exc.errors}) from None
