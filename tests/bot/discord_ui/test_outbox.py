"""The per-channel outbox: urgent sends first, edits coalesced, operations paced."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from bot.discord_ui.outbox import ChannelOutbox


async def test_urgent_sends_go_before_queued_edits() -> None:
    outbox = ChannelOutbox(interval=0.01)
    order: list[str] = []

    def edit(name: str):
        async def run() -> None:
            order.append(name)

        return run

    for key in range(3):
        outbox.edit(1, key, edit(f"edit-{key}"))

    async def deliver() -> str:
        order.append("delivery")
        return "posted"

    assert await outbox.send(1, deliver) == "posted"
    await _drained(outbox)
    assert order == ["delivery", "edit-0", "edit-1", "edit-2"]


async def test_sends_marked_first_go_ahead_of_other_urgent_sends() -> None:
    outbox = ChannelOutbox(interval=0.01)
    order: list[str] = []
    gate = asyncio.Event()

    async def blocker() -> None:
        await gate.wait()

    def op(name: str):
        async def run() -> str:
            order.append(name)
            return name

        return run

    busy = asyncio.create_task(outbox.send(1, blocker))
    await asyncio.sleep(0)
    sends = [asyncio.create_task(outbox.send(1, op(f"status-{n}"))) for n in range(2)]
    outbox.edit(1, 9, op("edit"))
    sends += [asyncio.create_task(outbox.send(1, op(f"video-{n}"), first=True)) for n in range(2)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(busy, *sends)
    await _drained(outbox)
    assert order == ["video-0", "video-1", "status-0", "status-1", "edit"]


async def test_edits_to_one_message_are_coalesced_to_the_newest() -> None:
    outbox = ChannelOutbox(interval=0.01)
    seen: list[int] = []
    gate = asyncio.Event()

    async def blocker() -> None:
        await gate.wait()

    outbox.edit(1, 0, blocker)
    await asyncio.sleep(0)
    for version in range(5):

        async def show(version: int = version) -> None:
            seen.append(version)

        outbox.edit(1, 7, show)
    gate.set()
    await _drained(outbox)
    assert seen == [4]


async def test_operations_in_one_channel_are_paced() -> None:
    outbox = ChannelOutbox(interval=0.05)
    stamps: list[float] = []

    async def stamp() -> None:
        stamps.append(time.monotonic())

    for key in range(4):
        outbox.edit(1, key, stamp)
    await _drained(outbox)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) == 4
    assert min(gaps) >= 0.045


async def test_a_delivery_right_after_an_edit_does_not_wait_for_the_spacing() -> None:
    outbox = ChannelOutbox(interval=0.2)
    stamps: dict[str, float] = {}

    async def edit() -> None:
        stamps["edit"] = time.monotonic()

    async def deliver() -> None:
        stamps["delivery"] = time.monotonic()

    outbox.edit(1, 1, edit)
    await asyncio.sleep(0.01)
    await outbox.send(1, deliver, first=True)
    assert stamps["delivery"] - stamps["edit"] < 0.1
    await outbox.close()


async def test_never_more_than_the_burst_in_any_window() -> None:
    outbox = ChannelOutbox(interval=0.02, burst=4)
    stamps: list[float] = []

    async def stamp() -> None:
        stamps.append(time.monotonic())

    for key in range(6):
        outbox.edit(1, key, stamp)
    await asyncio.gather(*(outbox.send(1, stamp, first=True) for _ in range(10)))
    await _drained(outbox)
    assert len(stamps) == 16
    for start in stamps:
        inside = [t for t in stamps if start <= t < start + outbox.window * 0.95]
        assert len(inside) <= 4


async def test_deliveries_fill_a_sliding_window_counted_from_when_each_send_ended() -> None:
    """A line of videos: four go out back to back; each later one starts as soon as the
    one four before it ended a window ago (a sliding window, not fixed blocks), never
    sooner, since Discord may count a send as late as its answer."""
    outbox = ChannelOutbox(interval=0.25, burst=4)
    spans: list[tuple[float, float]] = []

    async def upload() -> None:
        started = time.monotonic()
        await asyncio.sleep(0.1)
        spans.append((started, time.monotonic()))

    await asyncio.gather(*(outbox.send(1, upload, first=True) for _ in range(6)))
    starts = [start for start, _ in spans]
    assert all(b - a < 0.2 for a, b in itertools.pairwise(starts[:4]))
    for later in (4, 5):
        waited = starts[later] - spans[later - 4][1]
        assert outbox.window <= waited < outbox.window + 0.2, "fixed blocks would wait 0.3 s more"
    await outbox.close()


async def test_edits_leave_the_last_slot_of_the_window_to_urgent_sends() -> None:
    outbox = ChannelOutbox(interval=0.05, burst=4)
    stamps: list[tuple[str, float]] = []

    def op(name: str):
        async def run() -> None:
            stamps.append((name, time.monotonic()))

        return run

    for key in range(4):
        outbox.edit(1, key, op("edit"))
    await asyncio.sleep(outbox.interval * 2.5)
    await outbox.send(1, op("video"), first=True)
    await _drained(outbox)
    names = [name for name, _ in stamps]
    assert names == ["edit", "edit", "edit", "video", "edit"]
    edit_times = [at for name, at in stamps if name == "edit"]
    assert edit_times[3] - edit_times[0] >= outbox.window * 0.95


async def test_only_deliveries_take_the_last_slot_of_the_window() -> None:
    outbox = ChannelOutbox(interval=0.05, burst=4)
    stamps: list[tuple[str, float]] = []

    def op(name: str):
        async def run() -> None:
            stamps.append((name, time.monotonic()))

        return run

    posts = [asyncio.create_task(outbox.send(1, op("status post"))) for _ in range(4)]
    await asyncio.sleep(outbox.interval * 2.5)
    await outbox.send(1, op("video"), first=True)
    await asyncio.gather(*posts)
    names = [name for name, _ in stamps]
    assert names == ["status post", "status post", "status post", "video", "status post"]
    await outbox.close()


async def test_state_changes_go_before_queue_position_updates() -> None:
    outbox = ChannelOutbox(interval=0.01)
    order: list[str] = []

    def edit(name: str):
        async def run() -> None:
            order.append(name)

        return run

    gate = asyncio.Event()

    async def blocker() -> None:
        await gate.wait()

    outbox.edit(1, 0, blocker)
    await asyncio.sleep(0)
    outbox.edit(1, 1, edit("job 1 position"))
    outbox.edit(1, 2, edit("job 2 position"))
    outbox.edit(1, 3, edit("job 3 started"), important=True)
    outbox.edit(1, 1, edit("job 1 newer position"))
    gate.set()
    await _drained(outbox)
    assert order == ["job 3 started", "job 1 newer position", "job 2 position"]


async def test_an_edit_that_sends_nothing_costs_no_slot() -> None:
    outbox = ChannelOutbox(interval=0.2)
    stamps: list[float] = []

    async def unchanged() -> bool:
        return False

    async def stamp() -> None:
        stamps.append(time.monotonic())

    started = time.monotonic()
    for key in range(3):
        outbox.edit(1, key, unchanged)
    outbox.edit(1, 9, stamp)
    await _drained(outbox)
    assert stamps[0] - started < 0.1, "skipped edits did not make the real one wait"


async def test_a_new_lane_does_not_start_on_top_of_a_recent_burst() -> None:
    outbox = ChannelOutbox(interval=0.05, burst=2)
    stamps: list[float] = []

    async def stamp() -> None:
        stamps.append(time.monotonic())

    await asyncio.gather(*(outbox.send(1, stamp, first=True) for _ in range(2)))
    await asyncio.sleep(0.02)
    await outbox.send(1, stamp, first=True)
    assert stamps[2] - stamps[0] >= outbox.window * 0.95
    await outbox.close()


async def test_channels_do_not_wait_for_each_other() -> None:
    outbox = ChannelOutbox(interval=10.0)
    done: list[int] = []

    async def mark(channel: int) -> None:
        done.append(channel)

    outbox.edit(1, 1, lambda: mark(1))
    outbox.edit(2, 1, lambda: mark(2))
    await asyncio.sleep(0.05)
    assert sorted(done) == [1, 2]
    await outbox.close()


async def test_a_failing_send_raises_to_its_caller_and_the_lane_goes_on() -> None:
    outbox = ChannelOutbox(interval=0.0)

    async def broken() -> None:
        raise ValueError("discord said no")

    async def fine() -> int:
        return 5

    with pytest.raises(ValueError, match="discord said no"):
        await outbox.send(1, broken)
    assert await outbox.send(1, fine) == 5


@pytest.mark.parametrize("fails", [False, True])
async def test_a_sender_that_stops_waiting_mid_send_leaves_the_lane_working(fails: bool) -> None:
    """A sender cancelled while its message is being sent (its task stopped): the send
    still finishes, its outcome goes nowhere, and the lane carries on."""
    outbox = ChannelOutbox(interval=0.0)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> int:
        started.set()
        await release.wait()
        if fails:
            raise ValueError("discord said no")
        return 1

    async def fine() -> int:
        return 2

    sender = asyncio.create_task(outbox.send(1, slow))
    await started.wait()
    lane = outbox._lanes[1].task
    assert lane is not None
    sender.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await sender
    assert await outbox.send(1, fine) == 2
    await _drained(outbox)
    await asyncio.wait_for(lane, 5)  # raises what the lane's task died of, if anything


async def test_close_cancels_waiting_senders() -> None:
    outbox = ChannelOutbox(interval=10.0)

    async def quick() -> int:
        return 1

    assert await outbox.send(1, quick) == 1
    waiting = asyncio.create_task(outbox.send(1, quick))
    await asyncio.sleep(0.01)
    await outbox.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def _drained(outbox: ChannelOutbox) -> None:
    for _ in range(500):
        if not outbox._lanes:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the outbox did not drain")
