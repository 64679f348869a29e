"""THREAD_CREATE / THREAD_UPDATE / THREAD_DELETE as Discord sends them: only to a bot that
can see the thread ("Clients will not be informed of a thread through the gateway if they
do not have permission to view that thread"), under the Guilds intent."""

from __future__ import annotations

from typing import Any

from .gateway import GUILDS, GatewayHub
from .ids import utcnow
from .payloads import Payloads
from .world import FakeChannel, World


def announce_thread(
    hub: GatewayHub,
    payloads: Payloads,
    world: World,
    event: str,
    thread: FakeChannel,
    **extra: Any,
) -> None:
    if not world.bot_permissions_in(thread):
        return
    if event == "THREAD_DELETE":
        assert thread.parent is not None
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "parent_id": str(thread.parent.id),
            "type": thread.type,
        }
    else:
        data = {**payloads.channel(thread), **extra}
    hub.dispatch(event, data, guild_id=thread.guild_id, intent=GUILDS)


def set_archived(
    hub: GatewayHub,
    payloads: Payloads,
    world: World,
    thread: FakeChannel,
    archived: bool,
    *,
    by: int | None = None,
    locked: bool | None = None,
) -> None:
    """Archive or unarchive (``archive_timestamp`` moves, as Discord documents) and say so."""
    state = thread.thread
    assert state is not None
    state.archived = archived
    state.archive_timestamp = utcnow()
    state.archiver_id = by if archived else None
    if locked is not None:
        state.locked = locked
    announce_thread(hub, payloads, world, "THREAD_UPDATE", thread)
