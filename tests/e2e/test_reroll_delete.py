"""Re-roll and Delete on a finished video: who may press them, and after a restart."""

from __future__ import annotations

from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.e2e.harness import embed_text


async def delivered(world, **options):
    job_id, status = await world.started_job(await world.generate(**options))
    notice = await world.wait_for_notice(job_id)
    await world.wait_for_status(status, "Delivered")
    return job_id, status, notice


async def test_reroll_makes_a_new_job_with_the_same_parameters(world) -> None:
    job_id, _, notice = await delivered(world, duration=7, aspect_ratio="1:1", sound=False)
    assert f"video:reroll:{job_id}" in notice.custom_ids
    click = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.bob)
    new_id, status = await world.started_job(click)
    assert new_id != job_id
    assert f"re-roll of #{job_id}" in embed_text(status)
    assert f"<@{world.bob.id}>" in embed_text(status), "the presser asked for it"
    await world.wait_for_notice(new_id)
    first, second = world.emulator.jobs.values()
    assert first.payload == second.payload
    rerolled = await world.bot.tracker.fetch(new_id)
    assert rerolled.parent_id == job_id
    assert rerolled.requester_id == world.bob.id


async def test_reroll_counts_against_the_quota(world) -> None:
    await world.answer(await world.command("settings quota", world.admin, seconds_per_member=8))
    job_id, _, notice = await delivered(world, duration=5)
    click = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.alice)
    answer = await world.answer(click)
    assert "over your daily quota of 8 s (5 s used, 3 s left)" in answer.content
    assert world.emulator.submit_count == 1


async def test_a_failed_job_offers_to_try_again(world) -> None:
    world.emulator.script_outcomes(JobOutcome.fail("the model could not render this"))
    job_id, _ = await world.started_job(await world.generate())
    notice = await world.wait_for_notice(job_id)
    assert notice.custom_ids == [f"video:reroll:{job_id}"]
    retry = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.alice)
    new_id, _ = await world.started_job(retry)
    await world.wait_for_notice(new_id)


async def test_requester_deletes_their_video(world) -> None:
    job_id, status, notice = await delivered(world)
    click = await world.fake.click_button(notice, f"video:delete:{job_id}", world.alice)
    answer = await world.answer(click)
    assert answer.content == f"🗑️ Video #{job_id} is deleted."
    await eventually(lambda: world.fake.message(notice.id).deleted, what="the video removed")
    await world.wait_for_status(status, f"deleted by <@{world.alice.id}>")


async def test_others_cannot_delete_but_moderators_can_and_are_audited(world) -> None:
    audit = world.fake.add_text_channel(world.guild, "mod-log")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    job_id, _, notice = await delivered(world)
    refused = await world.answer(
        await world.fake.click_button(notice, f"video:delete:{job_id}", world.bob)
    )
    assert (
        refused.content == "Only the person who asked for this video or a moderator can delete it."
    )
    assert not world.fake.message(notice.id).deleted
    await world.answer(
        await world.fake.click_button(notice, f"video:delete:{job_id}", world.mod_by_role)
    )
    await eventually(lambda: world.fake.message(notice.id).deleted, what="the video removed")
    entry = await world.fake.wait_for_message(audit, lambda m: "deleted video" in m.content)
    assert f"<@{world.mod_by_role.id}> deleted video **#{job_id}** by <@{world.alice.id}>" in (
        entry.content
    )


async def test_result_buttons_work_after_a_restart(world) -> None:
    job_id, _, notice = await delivered(world)
    await world.restart_bot()
    reroll = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.alice)
    new_id, _ = await world.started_job(reroll)
    delete = await world.fake.click_button(notice, f"video:delete:{job_id}", world.alice)
    await world.answer(delete)
    await eventually(lambda: world.fake.message(notice.id).deleted, what="the video removed")
    await world.wait_for_notice(new_id)
