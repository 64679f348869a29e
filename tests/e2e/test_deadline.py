"""The deadline ends the member's wait, not the bot's interest in a paid video."""

from __future__ import annotations

from bot.jobs.model import JobState
from tests.e2e.harness import embed_text


async def test_a_video_finished_after_the_deadline_is_still_posted_with_a_mention(
    make_world,
) -> None:
    world = await make_world(
        env={"JOB_DEADLINE_MINUTES": "1"},
        emulator_options={"generation_time": lambda payload: 150.0},
    )
    job_id, status = await world.started_job(await world.generate())
    late = await world.fake.wait_for_message(
        world.channel, lambda m: f"**#{job_id}** is taking longer" in m.text, timeout=15
    )
    assert "keeps watching it" in late.text
    assert world.fake.mentions_pinged(late) == {world.alice.id}
    assert late.custom_ids == [], "no Try again: that would pay twice"
    await world.wait_for_status(status, "Taking longer than expected")

    video = await world.fake.wait_for_message(
        world.channel, lambda m: f"**#{job_id}** is ready" in m.text, timeout=30
    )
    assert video.attachments, "the late video itself, not the earlier notice"
    assert video.id != late.id
    assert world.fake.mentions_pinged(video) == {world.alice.id}
    final = await world.wait_for_status(status, "Delivered")
    assert "Delivered" in embed_text(final)
    stored = await world.bot.tracker.fetch(job_id)
    assert stored is not None
    assert stored.state is JobState.DELIVERED
    assert world.emulator.submit_count == 1
