"""Threads in the fake's world, as members and moderators make them: opened from a message
or without one, archived (and locked), unarchived and deleted, each announced to the bot as
Discord announces it."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import FakeDiscordUsageError
from .records import FakeMessage
from .state import FakeState
from .world import PRIVATE_THREAD, PUBLIC_THREAD, FakeChannel, FakeMember, World


class ThreadBuilding:
    """``FakeDiscord``'s thread methods."""

    _state: FakeState
    _world: World

    def add_thread(
        self,
        channel: FakeChannel,
        name: str,
        *,
        message: FakeMessage | None = None,
        owner: FakeMember | None = None,
        private: bool = False,
        members: Sequence[FakeMember] = (),
        auto_archive_duration: int = 1440,
    ) -> FakeChannel:
        """A member (``owner``, by default the server's owner) opens a thread in ``channel``:
        from ``message`` (public, sharing the message's id) or without one (public, or
        ``private`` with ``members``, which the bot sees only as a member or with Manage
        Threads). THREAD_CREATE reaches the bot if it can see the thread."""
        if message is not None:
            if private:
                raise FakeDiscordUsageError("a thread started from a message is public")
            if message.channel is not channel or message.deleted or message.ephemeral:
                raise FakeDiscordUsageError(f"message {message.id} is not live in #{channel.name}")
            if message.thread is not None:
                raise FakeDiscordUsageError(f"message {message.id} already has a thread")
        owner_user = owner.user if owner is not None else self._world.owner
        return self._state.threads.start(
            channel,
            name,
            owner=owner_user,
            message=message,
            kind=PRIVATE_THREAD if private else PUBLIC_THREAD,
            auto_archive_duration=auto_archive_duration,
            members=[m.id for m in members],
        )

    def threads_of(self, channel: FakeChannel) -> list[FakeChannel]:
        """The threads in ``channel`` that exist, archived ones included, oldest first."""
        return self._world.threads_of(channel)

    def archive_thread(
        self, thread: FakeChannel, *, locked: bool = False, by: FakeMember | None = None
    ) -> None:
        """A moderator archives (and perhaps locks) the thread: THREAD_UPDATE, after which
        discord.py drops it from its cache. A new message unarchives it unless locked."""
        archiver = by.id if by is not None else self._world.owner.id
        self._state.threads.set_archived(self._thread(thread), True, by=archiver, locked=locked)

    def unarchive_thread(self, thread: FakeChannel) -> None:
        """A moderator unarchives (and unlocks) the thread: THREAD_UPDATE."""
        self._state.threads.set_archived(self._thread(thread), False, locked=False)

    def delete_thread(self, thread: FakeChannel) -> None:
        """A moderator deletes the thread: THREAD_DELETE; its routes then answer 10003."""
        self._state.threads.delete(self._thread(thread))

    def _thread(self, thread: FakeChannel) -> FakeChannel:
        if thread.thread is None or self._world.channel(thread.id) is not thread:
            raise FakeDiscordUsageError(f"#{thread.name} is not a live thread")
        return thread
