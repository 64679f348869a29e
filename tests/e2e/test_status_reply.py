"""The status message is the command's own public reply: edited through the interaction's
webhook while its token lives, through the channel after; refusals stay private; a job
faster than the bot expects is still seen early."""

from __future__ import annotations

from bot.jobs.model import JobState
from bot.tuning import Tuning
from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.e2e.harness import SPEED, World, embed_text

TOKEN_LIFETIME = 15 * 60


def edits_of(world: World, message_id: int) -> tuple[int, int]:
    """(edits through an interaction webhook, edits through the channel) of one message."""
    webhook = channel = 0
    for record in world.fake.requests:
        if record.method != "PATCH" or record.status >= 400:
            continue
        if "/webhooks/" in record.path:
            webhook += 1
        elif record.path.endswith(f"/messages/{message_id}"):
            channel += 1
    return webhook, channel


async def test_a_job_spanning_the_token_life_is_edited_by_webhook_then_by_channel(
    make_world,
) -> None:
    world = await make_world(
        fake_options={"token_lifetime": TOKEN_LIFETIME / SPEED},
        emulator_options={"generation_time": lambda payload: 14 * 60.0},
    )
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    assert status is interaction.original
    await world.wait_for_status(status, "Generating")
    webhook_before, channel_before = edits_of(world, status.id)
    assert webhook_before >= 1
    assert channel_before == 0, "no channel budget spent while the token lives"

    await world.wait_for_notice(job_id, within=30)
    final = await world.wait_for_status(status, "Delivered", within=15)
    assert final.custom_ids == []
    _, channel_after = edits_of(world, status.id)
    assert channel_after >= 1, "after the token's safe life, edits use the channel"
    assert not [error for error in world.fake.errors if error.code == 10015], (
        "the bot stopped using the token before Discord ended it"
    )


async def test_the_first_status_shows_the_state_the_job_is_in(world) -> None:
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    assert "Preparing" not in embed_text(status)
    job = await world.bot.tracker.fetch(job_id)
    assert job is not None
    assert job.status_message_id == status.id


async def test_a_quota_refusal_after_the_public_defer_leaves_nothing_public(make_world) -> None:
    world = await make_world(env={"DAILY_VIDEO_SECONDS_PER_USER": "5"})
    await world.started_job(await world.generate(duration=5))
    refused = await world.generate(duration=5)
    answer = await world.answer(refused)
    assert answer.ephemeral
    assert "daily quota of 5 s" in answer.content
    assert refused.original is not None
    assert refused.original.deleted
    public = [
        message
        for message in world.fake.channel_messages(world.channel)
        if refused.owns(message) and not message.deleted and not message.ephemeral
    ]
    assert public == []
    assert world.emulator.submit_count == 1


async def test_a_limit_refusal_is_private_too(make_world) -> None:
    world = await make_world(
        emulator_options={"workers": 0},
        env={"MAX_ACTIVE_JOBS_PER_USER": "1", "MAX_WAITING_JOBS_PER_USER": "0"},
    )
    await world.started_job(await world.generate())
    answer = await world.answer(await world.generate(prompt="one too many"))
    assert answer.ephemeral
    assert "at most 1 can run" in answer.content


async def test_a_run_far_shorter_than_expected_is_delivered_promptly(make_world) -> None:
    """A fresh bot knows nothing of RunComfy's speed: a 10 s run must not wait for a guess."""
    world = await make_world(emulator_options={"generation_time": lambda payload: 10.0})
    job_id, _ = await world.started_job(await world.generate(duration=10))
    notice = await world.wait_for_notice(job_id, within=30)
    assert notice.attachments
    [job] = world.emulator.jobs.values()
    assert job.finished_at is not None
    lag = world.clock.now() - job.finished_at
    assert lag < 15.0, f"seen {lag:.1f} emulated seconds after RunComfy finished"


async def test_an_early_failure_is_told_promptly(make_world) -> None:
    world = await make_world(emulator_options={"generation_time": lambda payload: 3.0})
    world.emulator.script_outcomes(JobOutcome.fail("the prompt was flagged"))
    job_id, _ = await world.started_job(await world.generate(duration=15))
    notice = await world.wait_for_notice(job_id, within=30)
    assert "could not be made" in notice.text
    [job] = world.emulator.jobs.values()
    assert job.finished_at is not None
    assert world.clock.now() - job.finished_at < 15.0
    await eventually(
        lambda: world.bot.tracker.get(job_id) is None, what="the failure to be recorded"
    )
    stored = await world.bot.tracker.fetch(job_id)
    assert stored is not None
    assert stored.state is JobState.FAILED


def test_the_reply_window_leaves_a_margin_before_discords_fifteen_minutes() -> None:
    assert Tuning().interaction_reply_window <= 14 * 60
