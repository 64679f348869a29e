"""/video settings, quotas, budgets and /video usage, end to end."""

from __future__ import annotations

from testkit.waiting import eventually
from tests.e2e.harness import embed_text


async def test_only_server_managers_change_settings(world) -> None:
    refused = await world.answer(
        await world.command("settings limits", world.mod_by_permission, per_member=5)
    )
    assert (
        refused.content
        == "Only members with the Manage Server permission can change these settings."
    )
    assert world.bot.server_settings.get(world.guild.id).max_active_per_user == 2


async def test_settings_show_every_value_and_where_it_came_from(world) -> None:
    saved = await world.answer(await world.command("settings limits", world.admin, per_member=4))
    assert saved.content == "✅ Saved."
    text = embed_text(saved)
    assert "Videos at once per member\n4\n*set for this server*" in text
    assert "Videos at once in this server\n10\n*default*" in text
    shown = embed_text(await world.answer(await world.command("settings show", world.bob)))
    for row in (
        "Channels for videos\nevery channel\n*default*",
        "Daily quota per member\nno quota\n*default*",
        "Daily budget for the server\nno budget\n*default*",
        "Sound unless asked otherwise\non\n*default*",
        "Audit channel\nnone\n*default*",
    ):
        assert row in shown
    assert f"<@&{world.mod_role.id}>" in shown, "the .env default"


async def test_out_of_range_values_are_refused_with_the_range(world) -> None:
    answer = await world.answer(await world.command("settings limits", world.admin, per_member=0))
    assert answer.content == (
        "❌ Videos at once per member must be a whole number from 1 to 100. Nothing was changed."
    )
    answer = await world.answer(
        await world.command("settings limits", world.admin, per_member=3, per_server=5000)
    )
    assert "from 1 to 1,000" in answer.content
    assert world.bot.server_settings.get(world.guild.id).max_active_per_user == 2, (
        "a refused value leaves the others of the same command unchanged"
    )
    answer = await world.answer(
        await world.command("settings quota", world.admin, seconds_per_member=2)
    )
    assert "0 (no quota) or 3 to 86,400 seconds" in answer.content


async def test_videos_only_in_the_chosen_channels(world) -> None:
    other = world.fake.add_text_channel(world.guild, "general")
    await world.answer(
        await world.command("settings channels", world.admin, action="add", channel=world.channel)
    )
    refused = await world.answer(await world.command("generate", in_channel=other, prompt="a fox"))
    assert refused.content == (
        f"❌ Videos can be made in <#{world.channel.id}> on this server. "
        "Nothing was sent or charged."
    )
    assert world.emulator.submit_count == 0
    await world.started_job(await world.generate())


async def test_sound_default_off_is_sent_unless_the_member_asks(world) -> None:
    await world.answer(await world.command("settings sound", world.admin, on=False))
    await world.started_job(await world.generate(prompt="quiet"))
    await world.started_job(await world.generate(prompt="loud", sound=True))
    await eventually(lambda: len(world.emulator.jobs) == 2, what="both submitted")
    payloads = {job.payload["prompt"]: job.payload for job in world.emulator.jobs.values()}
    assert payloads["quiet"]["sound"] is False
    assert payloads["loud"]["sound"] is True


async def test_moderator_role_from_settings_can_cancel(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0}, env={"MODERATOR_ROLE_IDS": ""})
    helpers = world.fake.add_role(world.guild, "Helpers")
    helper = world.fake.add_member(world.guild, "hana", roles=(helpers,))
    job_id, _ = await world.started_job(await world.generate())
    refused = await world.answer(await world.command("cancel", helper, job=job_id))
    assert "Only the person who asked" in refused.content
    await world.answer(
        await world.command("settings moderators", world.admin, action="add", role=helpers)
    )
    await eventually(lambda: len(world.emulator.jobs) == 1, what="queued")
    done = await world.answer(await world.command("cancel", helper, job=job_id))
    assert "is cancelled" in done.content


async def test_daily_quota_refuses_with_the_numbers(midday_world) -> None:
    world = midday_world
    await world.answer(await world.command("settings quota", world.admin, seconds_per_member=12))
    await world.started_job(await world.generate(duration=5))
    await world.started_job(await world.generate(duration=5))
    refused = await world.answer(await world.generate(duration=5))
    assert refused.content.startswith(
        "⏳ This 5 s video would bring you to 15 s of video today, over your daily quota of 12 s "
        "(10 s used, 2 s left)."
    )
    assert "Nothing was sent or charged" in refused.content
    await world.started_job(await world.generate(world.bob, duration=5))


async def test_server_budget_refuses_with_the_numbers(midday_world) -> None:
    world = midday_world
    await world.answer(await world.command("settings quota", world.admin, budget_usd=1.0))
    await world.started_job(await world.generate(duration=5))
    refused = await world.answer(await world.generate(world.bob, duration=5))
    assert "would bring the server's spending today to $1.26" in refused.content
    assert "daily budget of $1.00 ($0.63 spent, $0.37 left)" in refused.content


async def test_usage_shows_today_and_this_month(midday_world) -> None:
    world = midday_world
    await world.answer(
        await world.command("settings quota", world.admin, seconds_per_member=60, budget_usd=20)
    )
    job_id, _ = await world.started_job(await world.generate(duration=5, sound=False))
    await world.wait_for_notice(job_id)
    await world.started_job(await world.generate(world.bob, duration=10))
    text = embed_text(await world.answer(await world.command("usage")))
    assert "You\nToday: $0.42 (1 video, 5 s)" in text
    assert "Daily quota: 60 s (55 s left today)" in text
    assert "This server\nToday: $1.68 (2 videos, 15 s)" in text
    assert "Daily budget: $20.00 ($18.32 left today)" in text
