"""A store that refused writes recovers by itself, whatever was open at the time: one
refused write while the tracker is idle (SQLite locked or read-only for a moment) must not
stop new videos until a restart. The fault is the real one (SQLite's own refusal), and it
is repeated, so that an intermittent failure shows."""

from __future__ import annotations

import pytest

from bot.jobs.line import NotTakingJobs
from bot.jobs.model import JobState
from testkit.waiting import eventually
from tests.bot.jobs.rig import Rig, make_settings

ROUNDS = 20


async def _refuse_writes(rig: Rig, refuse: bool) -> None:
    """SQLite refuses every write on the store's own connection, as a read-only file does."""
    pragma = f"PRAGMA query_only = {int(refuse)}"
    await rig.store.db.run(lambda conn: conn.execute(pragma))


async def test_one_refused_write_while_idle_does_not_stop_new_videos(make_rig) -> None:
    rig: Rig = await make_rig(settings=make_settings(store_retry_delay=5.0, store_retry_cap=20.0))
    tracker = await rig.start()
    delivered = []
    for round_number in range(ROUNDS):
        await _refuse_writes(rig, True)
        with pytest.raises(NotTakingJobs):
            await rig.submit(f"refused {round_number}")
        assert not tracker.store_writable()
        await _refuse_writes(rig, False)

        job = await rig.submit(f"taken {round_number}", user=round_number)
        assert tracker.store_writable(), "the write that just landed says so"
        delivered.append(await rig.wait_for_state(job.id, JobState.DELIVERED))

        await _refuse_writes(rig, True)
        with pytest.raises(NotTakingJobs):
            await rig.submit(f"refused again {round_number}")
        await _refuse_writes(rig, False)
        await eventually(
            tracker.store_writable, within=1.0, what="the store's health to come back unasked"
        )

    assert len(delivered) == ROUNDS
    assert rig.emulator.submit_count == ROUNDS, "nothing refused was sent, nothing twice"
    assert not any(tracker.kept_per_job().values())


async def test_writes_that_never_come_back_keep_refusing_without_spinning(make_rig) -> None:
    rig: Rig = await make_rig(settings=make_settings(store_retry_delay=5.0, store_retry_cap=20.0))
    tracker = await rig.start()
    probes = {"count": 0}
    check = rig.store.check_writable

    async def counted() -> None:
        probes["count"] += 1
        await check()

    rig.store.check_writable = counted  # type: ignore[method-assign]
    await _refuse_writes(rig, True)
    with pytest.raises(NotTakingJobs):
        await rig.submit("refused")
    await rig.clock.sleep(200)
    assert not tracker.store_writable()
    assert 3 <= probes["count"] <= 200 / 20 + 4, "tried again, backing off to every 20 s"
    with pytest.raises(NotTakingJobs):
        await rig.submit("still refused")
    assert rig.emulator.submit_count == 0
