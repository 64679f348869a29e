"""Threads as Discord keeps them: started from a message (sharing its id, at most one per
message) or without one, archived and unarchived, deleted; each change announced on the
gateway the way Discord announces it (developers/topics/threads)."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import FakeDiscordUsageError
from .ids import utcnow
from .messaging import Messenger
from .records import HAS_THREAD, FakeMessage
from .thread_events import announce_thread, set_archived
from .world import ARCHIVE_DURATIONS, PUBLIC_THREAD, FakeChannel, FakeUser


class ThreadKeeper:
    """The one place threads change, for the REST routes and the test API alike."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger
        self.world = messenger.world
        self.hub = messenger.hub
        self.payloads = messenger.payloads

    def start(
        self,
        parent: FakeChannel,
        name: str,
        *,
        owner: FakeUser,
        message: FakeMessage | None = None,
        kind: int = PUBLIC_THREAD,
        auto_archive_duration: int = 1440,
        rate_limit_per_user: int = 0,
        invitable: bool = True,
        members: Sequence[int] = (),
    ) -> FakeChannel:
        """THREAD_CREATE (``newly_created``); from a message also MESSAGE_UPDATE of that
        message, which now carries the thread (Start Thread from Message docs)."""
        if auto_archive_duration not in ARCHIVE_DURATIONS:
            raise FakeDiscordUsageError(f"auto_archive_duration must be one of {ARCHIVE_DURATIONS}")
        thread = self.world.add_thread(
            parent,
            name,
            kind=kind,
            owner_id=owner.id,
            thread_id=message.id if message is not None else None,
            auto_archive_duration=auto_archive_duration,
            rate_limit_per_user=rate_limit_per_user,
            invitable=invitable,
        )
        assert thread.thread is not None
        for member_id in members:
            thread.thread.members.setdefault(member_id, utcnow())
        self._announce("THREAD_CREATE", thread, newly_created=True)
        if message is not None:
            message.thread = thread
            message.flags |= HAS_THREAD
            self.messenger.refresh(message)
        return thread

    def set_archived(
        self,
        thread: FakeChannel,
        archived: bool,
        *,
        by: int | None = None,
        locked: bool | None = None,
    ) -> None:
        set_archived(self.hub, self.payloads, self.world, thread, archived, by=by, locked=locked)

    def changed(self, thread: FakeChannel) -> None:
        self._announce("THREAD_UPDATE", thread)

    def delete(self, thread: FakeChannel) -> None:
        """THREAD_DELETE; the thread's routes then answer 10003 and its starter message no
        longer carries it."""
        self._announce("THREAD_DELETE", thread)
        self.world.delete_thread(thread)
        starter = self.messenger.store.get(thread.id)
        if starter is not None and starter.thread is thread:
            starter.thread = None
            starter.flags &= ~HAS_THREAD

    def _announce(self, event: str, thread: FakeChannel, **extra: bool) -> None:
        announce_thread(self.hub, self.payloads, self.world, event, thread, **extra)
