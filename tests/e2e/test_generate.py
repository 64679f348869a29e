"""/video generate end to end: slash command in, status message, video out."""

from __future__ import annotations

import discord

from bot.jobs.model import JobState
from testkit.discord import permissions
from testkit.runcomfy import Endpoint, JobOutcome
from testkit.waiting import eventually
from tests.e2e.harness import cancel_id, embed_text


async def test_happy_path_posts_the_video_and_mentions_the_requester(world) -> None:
    interaction = await world.generate(duration=5, aspect_ratio="9:16", sound=False)
    ack = await interaction.wait_ack()
    assert ack.type == 5, "deferred at once"
    assert not interaction.ephemeral, "the public reply is the status message"
    assert interaction.acked_after < 3.0

    job_id, status = await world.started_job(interaction)
    assert status is interaction.original
    text = embed_text(status)
    assert "a red fox running through fresh snow at dawn" in text
    assert f"<@{world.alice.id}>" in text
    assert "5 s · 9:16 · no sound" in text
    assert "$0.42" in text, "5 s × $0.084 without sound"
    assert cancel_id(job_id) in status.custom_ids

    notice = await world.wait_for_notice(job_id)
    request_id = next(iter(world.emulator.jobs))
    [attachment] = notice.attachments
    assert attachment.read() == world.emulator.video_bytes(request_id)
    assert f"<@{world.alice.id}>" in notice.text
    assert notice.message_reference["message_id"] == str(status.id)
    assert world.fake.mentions_pinged(notice) == {world.alice.id}

    final = await world.wait_for_status(status, "Delivered")
    assert final.custom_ids == []
    assert "$0.42" in embed_text(final)
    assert world.emulator.submit_count == 1
    stored = await world.bot.tracker.fetch(job_id)
    assert stored.state is JobState.DELIVERED
    assert stored.notice_message_id == notice.id


async def test_only_options_the_user_set_are_sent(world) -> None:
    interaction = await world.generate(prompt="  a quiet lake  ", cfg_scale=0.8)
    await world.started_job(interaction)
    await eventually(lambda: bool(world.emulator.jobs), what="the submit")
    [job] = world.emulator.jobs.values()
    assert job.payload == {"prompt": "a quiet lake", "cfg_scale": 0.8}


async def test_too_large_for_the_upload_limit_posts_the_link(make_world) -> None:
    world = await make_world(guild_options={"upload_limit": 2000})
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    request_id = next(iter(world.emulator.jobs))
    assert notice.attachments == []
    # The emulator's link is http on 127.0.0.1, which members are never shown.
    assert world.emulator.output_url(request_id) not in notice.text
    assert "not safe to show" in notice.text
    assert request_id in notice.text
    assert "may expire" in notice.text
    assert "upload limit" in notice.text


async def test_a_failed_job_is_reported_in_plain_words(world) -> None:
    world.emulator.script_outcomes(JobOutcome.fail("the model could not render this prompt"))
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    assert "could not be made" in notice.text
    assert "the model could not render this prompt" in notice.text
    assert world.fake.mentions_pinged(notice) == {world.alice.id}
    final = await world.wait_for_status(status, "Failed")
    assert final.custom_ids == []


async def test_invalid_input_is_refused_privately_and_nothing_is_spent(world) -> None:
    interaction = await world.generate(prompt="     ")
    ack = await interaction.wait_ack()
    assert ack.type == 4
    assert interaction.ephemeral
    content = ack.data["content"]
    assert "`prompt` must be text of 1 to 2,500 characters" in content
    assert "only spaces" in content
    assert "Nothing was sent or charged" in content
    assert world.emulator.submit_count == 0
    assert [m for m in world.fake.channel_messages(world.channel) if not m.ephemeral] == []


async def test_missing_channel_permissions_are_explained_before_anything_is_spent(
    make_world,
) -> None:
    world = await make_world(start=False)
    world.fake.set_bot_permissions(
        world.channel, permissions.DEFAULT_BOT & ~discord.Permissions(attach_files=True).value
    )
    await world.start_bot()
    interaction = await world.generate()
    ack = await interaction.wait_ack()
    assert interaction.ephemeral
    assert "Attach Files" in ack.data["content"]
    assert world.emulator.submit_count == 0


async def test_runcomfy_refusal_is_shown_and_nothing_stays_pending(world) -> None:
    world.emulator.insufficient_balance()
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    final = await world.wait_for_status(status, "Failed")
    assert "out of credit" in embed_text(final)
    notice = await world.wait_for_notice(job_id)
    assert "out of credit" in notice.text
    assert world.bot.tracker.open_jobs() == []


async def test_prompts_can_never_ping_anyone(world) -> None:
    sneaky = f"@everyone look <@{world.bob.id}> <@&{world.mod_role.id}> @here"
    interaction = await world.generate(prompt=sneaky)
    job_id, status = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    assert world.fake.mentions_pinged(status) == set()
    assert world.fake.mentions_pinged(notice) == {world.alice.id}


async def test_acknowledged_at_once_even_when_runcomfy_is_slow(world) -> None:
    world.emulator.slow(Endpoint.SUBMIT, 4.0)
    interaction = await world.generate()
    await interaction.wait_ack()
    assert interaction.acked_after < 1.0
    await world.started_job(interaction)


async def test_delivery_does_not_need_the_interaction_token(make_world) -> None:
    world = await make_world(fake_options={"token_lifetime": 0.5})
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    world.fake.expire_interaction_tokens()
    notice = await world.wait_for_notice(job_id)
    assert notice.attachments
    await world.wait_for_status(world.fake.message(interaction.original.id), "Delivered")
    dead_token_calls = [e for e in world.fake.errors if e.code == 10015]
    assert len(dead_token_calls) <= 1, "a refused token is never used again"


async def test_a_video_that_cannot_be_downloaded_is_posted_as_a_link(world) -> None:
    world.emulator.fail(Endpoint.FILE, 404, error_code=None, times=None)
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    notice = await world.wait_for_notice(job_id)
    assert notice.attachments == []
    assert "could not download the file" in notice.text
    assert next(iter(world.emulator.jobs)) in notice.text


async def test_a_discord_outage_delays_the_video_but_loses_nothing(world) -> None:
    interaction = await world.generate()
    job_id, _ = await world.started_job(interaction)
    await eventually(
        lambda: (
            (job := world.bot.tracker.get(job_id)) is not None and job.state is JobState.RUNNING
        ),
        what="generating",
    )
    world.fake.set_outage(True)
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.notice_error is not None,
        within=15,
        what="a failed attempt to post the video",
    )
    world.fake.set_outage(False)
    notice = await world.wait_for_notice(job_id, within=30)
    assert notice.attachments
    assert len(world.notices(job_id)) == 1
    await eventually(lambda: world.bot.tracker.get(job_id) is None, what="delivery recorded")
    stored = await world.bot.tracker.fetch(job_id)
    assert stored.state is JobState.DELIVERED
    assert stored.notice_attempts >= 2


async def test_a_deleted_status_message_does_not_stop_the_video(world) -> None:
    interaction = await world.generate()
    job_id, status = await world.started_job(interaction)
    world.fake.delete_message(world.channel, status.id)
    notice = await world.wait_for_notice(job_id)
    assert notice.attachments
    assert world.fake.mentions_pinged(notice) == {world.alice.id}
