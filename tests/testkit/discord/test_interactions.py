"""Slash commands, buttons, modals and autocomplete against the real discord.py client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from testkit.discord import FakeDiscordUsageError, FakeMessage

from .conftest import MakeFake, Scene, StartBot, build_scene
from .sample_bot import SampleBot


def is_status(message: FakeMessage) -> bool:
    return message.content.startswith("Queued")


async def test_slash_command_payload_reaches_the_command_typed(
    scene: Scene, bot: SampleBot
) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel,
        scene.alice,
        "video",
        subcommand="generate",
        options={"prompt": "a cat surfing", "duration": 7, "aspect_ratio": "9:16"},
    )
    ack = await interaction.wait_ack()
    assert ack.type == 5
    assert ack.ephemeral
    assert interaction.ephemeral
    assert interaction.acked_after is not None
    assert interaction.acked_after < 1.0
    followup = await interaction.wait_followup()
    assert followup.content == f"Job {interaction.id} queued."
    assert followup.ephemeral
    assert followup is interaction.original
    assert not followup.loading
    status = await scene.fake.wait_for_message(scene.channel, is_status)
    assert status.content == f"Queued {scene.alice.mention}: a cat surfing (7s, 9:16)"
    assert status.custom_ids == [f"job:cancel:{interaction.id}"]
    client_side = bot.interactions[-1]
    assert client_side.user.id == scene.alice.id
    assert client_side.app_permissions.attach_files
    assert client_side.filesize_limit == 10 * 1024 * 1024
    [response] = bot.callback_responses
    assert response.is_thinking()
    assert response.is_ephemeral()
    assert response.message_id == interaction.original.id


async def test_invoking_needs_a_synced_command_and_valid_options(
    scene: Scene, bot: SampleBot
) -> None:
    fake, channel, alice = scene.fake, scene.channel, scene.alice
    with pytest.raises(FakeDiscordUsageError, match="not registered"):
        await fake.invoke_slash(channel, alice, "imagine")
    with pytest.raises(FakeDiscordUsageError, match="needs a subcommand"):
        await fake.invoke_slash(channel, alice, "video")
    with pytest.raises(FakeDiscordUsageError, match=r"must be in \[3, 15\]"):
        await fake.invoke_slash(
            channel, alice, "video", subcommand="generate", options={"prompt": "x", "duration": 99}
        )
    with pytest.raises(FakeDiscordUsageError, match="only offers"):
        await fake.invoke_slash(
            channel,
            alice,
            "video",
            subcommand="generate",
            options={"prompt": "x", "aspect_ratio": "4:3"},
        )
    with pytest.raises(FakeDiscordUsageError, match="required options missing"):
        await fake.invoke_slash(channel, alice, "video", subcommand="generate", options={})


async def test_payload_shape_matches_discord(scene: Scene, bot: SampleBot) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="generate", options={"prompt": "p"}
    )
    payload = interaction.payload
    [command] = scene.fake.registered_commands()
    assert payload["type"] == 2
    assert payload["version"] == 1
    assert payload["data"] == {
        "id": command["id"],
        "name": "video",
        "type": 1,
        "options": [
            {
                "name": "generate",
                "type": 1,
                "options": [{"name": "prompt", "type": 3, "value": "p"}],
            }
        ],
    }
    assert payload["attachment_size_limit"] == scene.guild.upload_limit
    assert payload["member"]["user"]["id"] == str(scene.alice.id)
    assert "permissions" in payload["member"]
    assert payload["app_permissions"] == str(scene.channel.bot_permissions)
    assert payload["authorizing_integration_owners"] == {"0": str(scene.guild.id)}
    assert payload["context"] == 0
    await interaction.wait_followup()


async def test_button_reaches_dynamic_item_after_restart(
    scene: Scene, bot: SampleBot, start_bot: StartBot
) -> None:
    fake = scene.fake
    interaction = await fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="generate", options={"prompt": "dog"}
    )
    status = await fake.wait_for_message(scene.channel, is_status)
    await interaction.wait_followup()
    await bot.close()
    restarted = await start_bot(fake)

    click = await fake.click_button(status, f"job:cancel:{interaction.id}", scene.alice)
    ack = await click.wait_ack()
    assert ack.type == 7
    assert restarted.cancelled == [interaction.id]
    edited = await fake.wait_for_edit(status, lambda m: "cancelled" in m.content)
    assert edited.content == f"Job {interaction.id} cancelled."
    assert edited.components == []
    assert edited.edit_count == 1
    assert edited.history[0].content.startswith("Queued")
    assert click.original is status
    with pytest.raises(FakeDiscordUsageError, match="has no component"):
        await fake.click_button(status, f"job:cancel:{interaction.id}", scene.alice)


async def test_clicking_a_custom_id_not_on_the_message_fails_loudly(
    scene: Scene, bot: SampleBot
) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="generate", options={"prompt": "dog"}
    )
    status = await scene.fake.wait_for_message(scene.channel, is_status)
    await interaction.wait_followup()
    with pytest.raises(FakeDiscordUsageError, match="has no component 'job:cancel:1'"):
        await scene.fake.click_button(status, "job:cancel:1", scene.alice)


async def test_late_ack_gets_unknown_interaction(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake(ack_deadline=0.2)
    scene = build_scene(fake)
    bot = await start_bot(fake, ack_delay=0.35)
    interaction = await fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="generate", options={"prompt": "slow"}
    )
    for _ in range(100):
        if bot.failures:
            break
        await asyncio.sleep(0.02)
    [failure] = bot.failures
    assert isinstance(failure, discord.NotFound)
    assert failure.code == 10062
    assert not interaction.acked
    assert fake.errors[-1].code == 10062


async def test_second_ack_is_already_acknowledged(scene: Scene, bot: SampleBot) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="status", options={"job": "job-beta"}
    )
    await interaction.wait_ack()
    client_side = bot.interactions[-1]
    client_side.response._response_type = None  # let discord.py try a second callback
    with pytest.raises(discord.HTTPException) as raised:
        await client_side.response.defer()
    assert raised.value.status == 400
    assert raised.value.code == 40060
    assert len(interaction.callbacks) == 1


async def test_followup_after_token_expiry_is_unknown_webhook(scene: Scene, bot: SampleBot) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="status", options={"job": "job-beta"}
    )
    await interaction.wait_ack()
    assert interaction.original is not None
    assert interaction.original.content == "job-beta: running"
    client_side = bot.interactions[-1]
    edited = await client_side.edit_original_response(content="job-beta: done")
    assert edited.content == "job-beta: done"
    assert interaction.original.content == "job-beta: done"

    scene.fake.expire_interaction_tokens()
    with pytest.raises(discord.NotFound) as raised:
        await client_side.followup.send("too late")
    assert raised.value.code == 10015
    with pytest.raises(discord.NotFound) as raised:
        await client_side.edit_original_response(content="too late")
    assert raised.value.code == 10015


async def test_modal_open_and_submit(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    opened = await fake.invoke_slash(scene.channel, scene.bob, "video", subcommand="feedback")
    ack = await opened.wait_ack()
    assert ack.type == 9
    assert opened.modal is not None
    assert opened.modal["title"] == "Feedback"
    with pytest.raises(FakeDiscordUsageError, match="only the user"):
        await fake.submit_modal(opened, {"feedback": "hi"}, scene.alice)
    submitted = await fake.submit_modal(opened, {"feedback": "Lovely videos"})
    reply = await submitted.wait_ack()
    assert reply.type == 4
    assert submitted.original is not None
    assert submitted.original.content == "Thanks: Lovely videos"
    assert submitted.ephemeral


async def test_autocomplete_returns_the_bots_choices(scene: Scene, bot: SampleBot) -> None:
    choices = await scene.fake.autocomplete(
        scene.channel,
        scene.alice,
        "video",
        subcommand="status",
        options={"job": "be"},
        focused="job",
    )
    assert choices == [{"name": "job-beta", "value": "job-beta"}]


async def test_two_hundred_commands_are_acknowledged_within_the_deadline(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    interactions = [
        await fake.invoke_slash(
            scene.channel, scene.alice, "video", subcommand="status", options={"job": f"j{i}"}
        )
        for i in range(200)
    ]
    acks = await asyncio.gather(*(i.wait_ack(timeout=10) for i in interactions))
    assert {a.type for a in acks} == {4}
    assert max(i.acked_after or 0 for i in interactions) < fake.config.ack_deadline


async def test_files_through_interaction_responses(
    make_fake: MakeFake, start_bot: StartBot, tmp_path: Path
) -> None:
    fake = await make_fake(default_upload_limit=128 * 1024)
    scene = build_scene(fake)
    bot = await start_bot(fake)
    bot.render_path = tmp_path / "out.mp4"
    data = bytes(range(256)) * 400
    bot.render_path.write_bytes(data)

    inline = await fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="render", options={"inline": True}
    )
    assert (await inline.wait_ack()).type == 4
    assert inline.original is not None
    assert inline.original.attachments[0].read() == data

    deferred = await fake.invoke_slash(scene.channel, scene.alice, "video", subcommand="render")
    delivered = await deferred.wait_original(lambda m: not m.loading)
    assert delivered.content == "Done!"
    assert delivered.attachments[0].read() == data
    assert not deferred.ephemeral

    bot.render_path.write_bytes(b"x" * (128 * 1024 + 1))
    too_big = await fake.invoke_slash(scene.channel, scene.alice, "video", subcommand="render")
    await too_big.wait_ack()
    for _ in range(100):
        if bot.failures:
            break
        await asyncio.sleep(0.02)
    [failure] = bot.failures
    assert isinstance(failure, discord.HTTPException)
    assert (failure.status, failure.code) == (413, 40005)
    assert too_big.original is not None
    assert too_big.original.loading


async def test_ephemeral_messages_are_only_clickable_by_their_user(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    opened = await fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="status", options={"job": "j"}
    )
    await opened.wait_ack()
    assert opened.original is not None
    assert opened.original.ephemeral
    with pytest.raises(FakeDiscordUsageError, match="only visible"):
        await fake.click_button(opened.original, "anything", scene.bob)


async def test_select_menu_payload(scene: Scene, bot: SampleBot) -> None:
    channel = bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View()
    view.add_item(
        discord.ui.Select(
            custom_id="pick",
            options=[discord.SelectOption(label="A", value="a"), discord.SelectOption(label="B")],
        )
    )
    sent = await channel.send("choose", view=view)
    picked = await scene.fake.select_menu(sent.id, "pick", scene.alice, ["a"])
    data = picked.payload["data"]
    assert (data["custom_id"], data["component_type"], data["values"]) == ("pick", 3, ["a"])
    assert picked.payload["message"]["id"] == str(sent.id)
    with pytest.raises(FakeDiscordUsageError, match="pass values"):
        await scene.fake.click_button(sent.id, "pick", scene.alice)
