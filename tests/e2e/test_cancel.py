"""The Cancel button: who may press it, when it works, and what the message says."""

from __future__ import annotations

import pytest

from bot.jobs.model import JobState
from testkit.waiting import eventually
from tests.e2e.harness import cancel_id, embed_text


@pytest.fixture
async def stuck(make_world):
    """RunComfy has no free worker, so jobs stay queued until a test frees one."""
    return await make_world(emulator_options={"workers": 0})


async def queued_job(world):
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.state is JobState.QUEUED,
        what="queued at RunComfy",
    )
    return job_id, status


@pytest.mark.parametrize("who", ["alice", "mod_by_permission", "mod_by_role"])
async def test_requester_and_moderators_can_cancel_a_queued_job(stuck, who) -> None:
    job_id, status = await queued_job(stuck)
    member = getattr(stuck, who)
    click = await stuck.fake.click_button(status, cancel_id(job_id), member)
    reply = await click.wait_original(lambda m: "cancelled" in (m.content or ""))
    assert click.ephemeral
    assert "Nothing was charged" in reply.content
    final = await stuck.wait_for_status(status, "Cancelled by")
    assert f"Cancelled by <@{member.id}>" in embed_text(final)
    assert final.custom_ids == []
    [job] = stuck.emulator.jobs.values()
    assert job.status == "cancelled"
    assert stuck.notices(job_id) == [], "no extra ping for a cancel someone pressed"


async def test_anyone_else_is_refused_privately(stuck) -> None:
    job_id, status = await queued_job(stuck)
    click = await stuck.fake.click_button(status, cancel_id(job_id), stuck.bob)
    reply = await click.wait_original(lambda m: bool(m.content))
    assert click.ephemeral
    assert reply.content == "Only the person who asked for this video or a moderator can cancel it."
    assert stuck.bot.tracker.get(job_id).state is JobState.QUEUED
    [job] = stuck.emulator.jobs.values()
    assert job.status == "in_queue"


async def test_cancel_is_refused_once_generation_started(stuck) -> None:
    job_id, status = await queued_job(stuck)
    stuck.emulator.set_workers(1)
    click = await stuck.fake.click_button(status, cancel_id(job_id), stuck.alice)
    reply = await click.wait_original(lambda m: "Too late" in (m.content or ""))
    assert "can no longer be cancelled" in reply.content
    running = await stuck.wait_for_status(status, "can no longer be cancelled")
    assert running.custom_ids == [], "the button is removed while it generates"
    await stuck.wait_for_notice(job_id)


async def test_waiting_job_is_cancelled_locally(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0}, env={"MAX_ACTIVE_JOBS_PER_USER": "1"})
    await queued_job(world)
    second = await world.generate(prompt="a second idea")
    job_id, status = await world.started_job(second)
    shown = await world.wait_for_status(status, "in line")
    assert "#1 in line" in embed_text(shown)
    click = await world.fake.click_button(status, cancel_id(job_id), world.alice)
    await click.wait_original(lambda m: "cancelled" in (m.content or ""))
    assert len(world.emulator.jobs) == 1, "the waiting job was never sent"
