"""Restarts and a busy channel, end to end."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.discord_ui.notices import notice_nonce
from bot.jobs.model import JobState
from testkit.discord.records import RequestRecord
from testkit.waiting import eventually
from tests.e2e.harness import World, cancel_id, job_id_of


async def test_restart_mid_job_delivers_once_and_buttons_still_answer(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0})
    first = await world.generate(prompt="first: a lighthouse in a storm")
    first_id, first_status = await world.started_job(first)
    second = await world.generate(prompt="second: a tram through fog", member=world.bob)
    second_id, second_status = await world.started_job(second)
    await eventually(lambda: len(world.emulator.jobs) == 2, what="both submitted")

    await world.restart_bot()

    click = await world.fake.click_button(first_status, cancel_id(first_id), world.alice)
    await click.wait_original(lambda m: "cancelled" in (m.content or ""))
    await world.wait_for_status(first_status, "Cancelled by")

    world.emulator.set_workers(1)
    notice = await world.wait_for_notice(second_id)
    assert notice.attachments
    await world.wait_for_status(second_status, "Delivered")
    await world.restart_bot()
    await asyncio.sleep(0.5)
    assert len(world.notices(second_id)) == 1
    assert world.notices(first_id) == []
    assert world.emulator.submit_count == 2


async def test_a_repeated_notice_is_not_posted_twice(world) -> None:
    """A crash after posting but before recording: the resend returns the same message."""
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    delivered = await world.bot.tracker.fetch(job_id)
    assert notice.nonce == notice_nonce(delivered)
    replay = replace(delivered, state=JobState.COMPLETED, notice_attempts=1)
    assert await world.bot.notifier.send_notice(replay) == notice.id
    assert len(world.notices(job_id)) == 1


async def test_a_repeat_after_the_nonce_window_finds_the_earlier_notice(make_world) -> None:
    world = await make_world(fake_options={"nonce_window": 0.01})
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    await asyncio.sleep(0.05)
    delivered = await world.bot.tracker.fetch(job_id)
    replay = replace(delivered, state=JobState.COMPLETED, notice_attempts=2)
    assert await world.bot.notifier.send_notice(replay) == notice.id
    assert len(world.notices(job_id)) == 1


def channel_writes(world: World) -> list[RequestRecord]:
    """Every message the bot created or edited through the channel route (bot token)."""
    route = f"/channels/{world.channel.id}/messages"
    return [
        record
        for record in world.fake.requests
        if record.method in ("POST", "PATCH") and route in record.path
    ]


async def test_thirty_jobs_in_one_channel_stay_under_the_rate_limit(make_world) -> None:
    world = await make_world(
        env={
            "MAX_ACTIVE_JOBS_PER_USER": "30",
            "MAX_ACTIVE_JOBS_PER_SERVER": "30",
            "MAX_WAITING_JOBS_PER_USER": "30",
        },
        emulator_options={"workers": 10},
    )
    members = [world.alice, world.bob, world.mod_by_permission, world.mod_by_role]
    interactions = [
        await world.generate(prompt=f"idea number {n}", member=members[n % 4]) for n in range(30)
    ]
    job_ids = [await world.job_id(it) for it in interactions]
    for job_id in job_ids:
        await world.wait_for_notice(job_id, within=60)
    assert world.fake.rate_limited_count == 0
    assert world.fake.channel_bucket_exhausted == 0, "the bot paced itself below the limit"
    writes = channel_writes(world)
    assert [r.method for r in writes].count("POST") == 30, "each job costs its channel one message"
    assert "PATCH" not in [r.method for r in writes], "status edits go through the webhooks"
    await eventually(lambda: world.bot.tracker.open_jobs() == [], what="all recorded")
    statuses = [m for m in world.fake.channel_messages(world.channel) if job_id_of(m)]
    assert statuses, "status messages were posted"
    for status in statuses:
        final = await world.wait_for_status(status, "Delivered", within=30)
        assert final.custom_ids == []
