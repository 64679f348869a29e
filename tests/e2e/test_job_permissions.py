"""One rule at every entry point: moderator powers over a job come from the member's
permissions in the job's channel (or a moderator role), never from where they typed."""

from __future__ import annotations

import pytest

from bot.jobs.model import JobState
from testkit.waiting import eventually
from tests.e2e.harness import MANAGE_MESSAGES, cancel_id, embed_text

ENTRY_POINTS = ["button", "cancel command", "status command", "queue menu", "autocomplete"]
EXPECTED = {
    # Manage Messages only in another channel, where the command is typed: not a moderator.
    "manages elsewhere": False,
    # Manage Messages only in the job's channel, typing elsewhere: a moderator of that job.
    "manages the job's channel": True,
    # A moderator role counts on the whole server.
    "moderator role": True,
}


@pytest.fixture
async def stuck(make_world):
    """RunComfy has no free worker: jobs stay queued (and cancellable)."""
    return await make_world(emulator_options={"workers": 0})


async def alices_queued_job(world):
    job_id, status = await world.started_job(await world.generate(prompt="a heron at dusk"))
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.state is JobState.QUEUED,
        what="queued at RunComfy",
    )
    return job_id, status


def cast(world, who, elsewhere):
    """The member for a row of the table, with a channel overwrite where it says."""
    if who == "moderator role":
        return world.mod_by_role
    member = world.fake.add_member(world.guild, who.split()[0] + "-member")
    where = elsewhere if who == "manages elsewhere" else world.channel
    world.fake.set_member_overwrite(where, member, allow=MANAGE_MESSAGES)
    return member


async def try_entry(world, entry, member, job_id, status, elsewhere) -> bool:
    """Whether `member` got to act on alice's job through `entry`."""
    if entry == "button":
        click = await world.fake.click_button(status, cancel_id(job_id), member)
        reply = await click.wait_original(lambda m: bool(m.content))
        return "is cancelled" in reply.content
    if entry == "cancel command":
        answer = await world.answer(
            await world.command("cancel", member, in_channel=elsewhere, job=job_id)
        )
        return "is cancelled" in answer.content
    if entry == "status command":
        answer = await world.answer(
            await world.command("status", member, in_channel=elsewhere, job=job_id)
        )
        return f"Video #{job_id}" in embed_text(answer)
    if entry == "queue menu":
        page = await world.answer(await world.command("queue", member, in_channel=elsewhere))
        menu = page.component("video:queue:cancel")
        if menu is None or str(job_id) not in [o["value"] for o in menu["options"]]:
            return False
        picked = await world.fake.select_menu(page, "video:queue:cancel", member, [str(job_id)])
        await picked.wait_ack()
        await world.fake.wait_for_edit(page, lambda m: "is cancelled" in (m.content or ""))
        return True
    listed = set()
    for subcommand in ("cancel", "status"):
        choices = await world.fake.autocomplete(
            elsewhere, member, "video", subcommand=subcommand, focused="job", options={"job": ""}
        )
        listed |= {choice["value"] for choice in choices}
    return job_id in listed


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("who", EXPECTED)
async def test_moderator_powers_come_from_the_jobs_channel(stuck, who, entry) -> None:
    elsewhere = stuck.fake.add_text_channel(stuck.guild, "elsewhere")
    job_id, status = await alices_queued_job(stuck)
    member = cast(stuck, who, elsewhere)
    allowed = await try_entry(stuck, entry, member, job_id, status, elsewhere)
    assert allowed is EXPECTED[who]
    job = await stuck.bot.tracker.fetch(job_id)
    assert job is not None
    cancelled = job.state is JobState.CANCELLED
    assert cancelled is (EXPECTED[who] and entry not in ("status command", "autocomplete"))
