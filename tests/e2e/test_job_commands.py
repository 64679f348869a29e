"""/video status, cancel, mine and queue, with autocomplete and moderator powers."""

from __future__ import annotations

import pytest

from bot.jobs.model import JobState
from testkit.waiting import eventually
from tests.e2e.harness import embed_text


@pytest.fixture
async def stuck(make_world):
    """RunComfy has no free worker: jobs stay queued."""
    return await make_world(emulator_options={"workers": 0})


async def queued(world, member=None, prompt="a red fox in the snow"):
    job_id, status = await world.started_job(await world.generate(member, prompt=prompt))
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.state is JobState.QUEUED,
        what=f"job {job_id} queued",
    )
    return job_id, status


async def test_status_shows_your_latest_job_privately(stuck) -> None:
    job_id, status = await queued(stuck)
    interaction = await stuck.command("status")
    answer = await stuck.answer(interaction)
    assert interaction.ephemeral
    assert f"Video #{job_id}" in embed_text(answer)
    assert "Queued at RunComfy" in embed_text(answer)
    assert str(status.id) in answer.content, "links to the status message"


async def test_status_of_someone_elses_job_is_for_moderators(stuck) -> None:
    job_id, _ = await queued(stuck)
    refused = await stuck.answer(await stuck.command("status", stuck.bob, job=job_id))
    assert "someone else's" in refused.content
    allowed = await stuck.answer(await stuck.command("status", stuck.mod_by_role, job=job_id))
    assert f"Video #{job_id}" in embed_text(allowed)


async def test_autocomplete_lists_your_jobs_and_all_jobs_for_moderators(stuck) -> None:
    alice_job, _ = await queued(stuck, prompt="alice's lighthouse")
    bob_job, _ = await queued(stuck, stuck.bob, prompt="bob's tram")

    async def choices(member, typed=""):
        found = await stuck.fake.autocomplete(
            stuck.channel,
            member,
            "video",
            subcommand="cancel",
            focused="job",
            options={"job": typed},
        )
        return {choice["value"] for choice in found}

    assert await choices(stuck.alice) == {alice_job}
    assert await choices(stuck.bob) == {bob_job}
    assert await choices(stuck.mod_by_permission) == {alice_job, bob_job}
    assert await choices(stuck.mod_by_permission, "tram") == {bob_job}


async def test_cancel_command_cancels_your_latest_cancellable_job(stuck) -> None:
    job_id, status = await queued(stuck)
    answer = await stuck.answer(await stuck.command("cancel"))
    assert f"Video #{job_id} is cancelled" in answer.content
    await stuck.wait_for_status(status, "Cancelled by")


async def test_cancel_command_for_someone_elses_job(stuck) -> None:
    job_id, _ = await queued(stuck)
    refused = await stuck.answer(await stuck.command("cancel", stuck.bob, job=job_id))
    assert (
        refused.content == "Only the person who asked for this video or a moderator can cancel it."
    )
    done = await stuck.answer(await stuck.command("cancel", stuck.mod_by_role, job=job_id))
    assert "is cancelled" in done.content


async def test_mine_lists_recent_jobs_with_links(world) -> None:
    job_id, _ = await world.started_job(await world.generate(prompt="a cat on a piano"))
    notice = await world.wait_for_notice(job_id)
    await world.wait_for_status(await world.status_message(job_id), "Delivered")
    answer = await world.answer(await world.command("mine"))
    text = embed_text(answer)
    assert f"**#{job_id}**" in text
    assert "[Delivered](" in text
    assert str(notice.id) in text, "links to the posted video"
    assert "a cat on a piano" in text
    others = await world.answer(await world.command("mine", world.bob))
    assert "not asked for any videos" in embed_text(others)


async def test_queue_is_paginated_in_order(make_world) -> None:
    world = await make_world(
        emulator_options={"workers": 0},
        env={"MAX_ACTIVE_JOBS_PER_USER": "6", "MAX_WAITING_JOBS_PER_USER": "10"},
    )
    members = [world.alice, world.bob]
    ids = []
    for number in range(12):
        job_id, _ = await world.started_job(
            await world.generate(members[number % 2], prompt=f"idea {number}")
        )
        ids.append(job_id)
    await eventually(lambda: len(world.emulator.jobs) == 10, what="ten at RunComfy")
    interaction = await world.command("queue", world.bob)
    page = await world.answer(interaction)
    first = embed_text(page)
    assert "Page 1 of 2 · 12 videos" in first
    assert "1. **#" in first
    assert "Queued at RunComfy (position 1)" in first
    assert "video:queue:cancel" not in page.custom_ids, "no cancel menu for non-moderators"
    next_id = next(i for i in page.custom_ids if "Next" in str(page.component(i)))
    await world.fake.click_button(page, next_id, world.bob)
    second = await world.fake.wait_for_edit(page, lambda m: "Page 2 of 2" in embed_text(m))
    assert "#1 in line" in embed_text(second)


async def test_moderators_cancel_from_the_queue_and_it_is_audited(stuck) -> None:
    audit = stuck.fake.add_text_channel(stuck.guild, "mod-log")
    await stuck.answer(await stuck.command("settings audit", stuck.admin, channel=audit))
    job_id, status = await queued(stuck)
    page = await stuck.answer(await stuck.command("queue", stuck.mod_by_permission))
    assert "video:queue:cancel" in page.custom_ids
    picked = await stuck.fake.select_menu(
        page, "video:queue:cancel", stuck.mod_by_permission, [str(job_id)]
    )
    await picked.wait_ack()
    updated = await stuck.fake.wait_for_edit(page, lambda m: "is cancelled" in (m.content or ""))
    assert "Nothing is waiting or generating" in embed_text(updated)
    await stuck.wait_for_status(status, f"Cancelled by <@{stuck.mod_by_permission.id}>")
    entry = await stuck.fake.wait_for_message(audit, lambda m: "cancelled video" in m.content)
    assert f"<@{stuck.mod_by_permission.id}> cancelled video **#{job_id}**" in entry.content
    assert f"by <@{stuck.alice.id}>" in entry.content
    assert "<t:" in entry.content, "when"
    assert stuck.fake.mentions_pinged(entry) == set()
