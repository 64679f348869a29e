"""Interactions the fake dispatched, and what the bot answered to each."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .messages import MessagePredicate
from .records import CallbackRecord, FakeMessage
from .waiting import Signal
from .world import FakeChannel, FakeMember, FakeUser

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    PING: frozenset({PONG}),
    APPLICATION_COMMAND: frozenset({CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL}),
    MESSAGE_COMPONENT: frozenset(
        {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL}
    ),
    AUTOCOMPLETE: frozenset({AUTOCOMPLETE_RESULT}),
    MODAL_SUBMIT: frozenset(
        {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
    ),
}


@dataclass(eq=False)
class FakeInteraction:
    """One INTERACTION_CREATE and its life: callbacks, original response, follow-ups."""

    id: int
    token: str
    type: int
    channel: FakeChannel
    member: FakeMember | None
    user: FakeUser
    payload: dict[str, Any]
    dispatched_at: float
    token_expires_at: float
    attachment_size_limit: int
    command_name: str | None = None
    message: FakeMessage | None = None
    opened_by: FakeInteraction | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    loading_replaced: bool = False
    _signal: Signal = field(default_factory=Signal, repr=False)

    @property
    def acked(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0].type if self.callbacks else None

    @property
    def acked_after(self) -> float | None:
        """Seconds from dispatch to the accepted callback (``None`` until acknowledged)."""
        return self.callbacks[0].elapsed if self.callbacks else None

    @property
    def ephemeral(self) -> bool:
        """Whether the response the user sees is ephemeral (flag 64 on the callback's data,
        or on the component's message for 6/7)."""
        if not self.callbacks:
            return False
        if self.response_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and self.message:
            return self.message.ephemeral
        return self.callbacks[0].ephemeral

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    def owns(self, message: FakeMessage) -> bool:
        return message is self.original or any(message is m for m in self.followups)

    def changed(self) -> None:
        self._signal.notify()

    async def wait_ack(self, timeout: float = 5.0) -> CallbackRecord:
        return await self._signal.wait_for(
            lambda: self.callbacks[0] if self.callbacks else None,
            timeout,
            lambda: f"interaction {self.id} ({self.command_name or self.type}) to be acknowledged",
        )

    async def wait_followup(
        self, predicate: MessagePredicate | None = None, timeout: float = 5.0
    ) -> FakeMessage:
        """The first follow-up (live, not the replaced loading message) matching predicate."""
        check = predicate or _always
        return await self._signal.wait_for(
            lambda: next((m for m in self.followups if not m.deleted and check(m)), None),
            timeout,
            lambda: f"a follow-up on interaction {self.id}; have {len(self.followups)}",
        )

    async def wait_original(
        self, predicate: MessagePredicate | None = None, timeout: float = 5.0
    ) -> FakeMessage:
        """The original response once its current state matches (e.g. no longer loading)."""
        check = predicate or _always

        def ready() -> FakeMessage | None:
            original = self.original
            return original if original is not None and check(original) else None

        return await self._signal.wait_for(
            ready,
            timeout,
            lambda: (
                f"the original response of interaction {self.id} to match; now "
                + (repr(self.original.content[:80]) if self.original else "none")
            ),
        )

    async def wait_answer(
        self, predicate: MessagePredicate | None = None, timeout: float = 5.0
    ) -> FakeMessage:
        """What the user ends up reading: the live original response once it has content
        (embeds, or a Components V2 layout), or a follow-up with content (e.g. a private one
        after the original was deleted)."""
        check = predicate or _always

        def readable(message: FakeMessage) -> bool:
            shown = message.content or message.embeds or (message.is_v2 and message.components)
            return not message.deleted and bool(shown)

        def ready() -> FakeMessage | None:
            candidates = [self.original, *self.followups]
            return next((m for m in candidates if m is not None and readable(m) and check(m)), None)

        return await self._signal.wait_for(
            ready, timeout, lambda: f"an answer to interaction {self.id}"
        )


def _always(_: FakeMessage) -> bool:
    return True


class InteractionRegistry:
    """Every dispatched interaction by id and by token (webhook routes address the token)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.by_id: dict[int, FakeInteraction] = {}
        self.by_token: dict[str, FakeInteraction] = {}

    def add(self, interaction: FakeInteraction) -> None:
        self.by_id[interaction.id] = interaction
        self.by_token[interaction.token] = interaction

    def all(self) -> list[FakeInteraction]:
        return list(self.by_id.values())

    def expire_tokens(self) -> None:
        now = self._clock()
        for interaction in self.by_id.values():
            interaction.token_expires_at = min(interaction.token_expires_at, now - 1e-6)
