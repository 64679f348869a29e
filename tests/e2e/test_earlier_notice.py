"""A video's notice posted just before a crash, but never recorded, is found again when
the job comes round, even in a busy channel and once Discord has forgotten its nonce: the
video is not posted twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.jobs.model import JobState
from tests.e2e.harness import World, is_notice


async def test_a_notice_before_a_crash_is_found_behind_a_busy_channel(make_world: Any) -> None:
    """More than a page of chat between the status card and the video, and more after."""
    world: World = await make_world(
        fake_options={"nonce_window": 0.01}, emulator_options={"workers": 0}
    )
    job_id, _ = await world.started_job(await world.generate())
    for n in range(120):
        await world.fake.post_user_message(world.channel, world.bob, f"chatter {n}")
    world.emulator.set_workers(1)
    notice = await world.wait_for_notice(job_id)
    for n in range(30):
        await world.fake.post_user_message(world.channel, world.bob, f"after {n}")
    assert world.bot is not None
    delivered = await world.bot.tracker.fetch(job_id)
    assert delivered is not None
    replay = replace(delivered, state=JobState.COMPLETED, notice_attempts=2)
    assert await world.bot.notifier.send_notice(replay) == notice.id
    posted = [m.id for m in world.fake.channel_messages(world.channel) if is_notice(m, job_id)]
    assert posted == [notice.id], "posted once"
