"""Who a bot message would ping: Discord's allowed_mentions semantics, through discord.py."""

from __future__ import annotations

import discord

from testkit.discord import permissions

from .conftest import MakeFake, StartBot, build_scene


async def test_mentions_pinged_follows_allowed_mentions(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    scene = build_scene(fake)
    mods = fake.add_role(scene.guild, "Mods")
    loud = fake.add_text_channel(
        scene.guild, "loud", bot_permissions=permissions.DEFAULT_BOT | permissions.MENTION_EVERYONE
    )
    bot = await start_bot(fake)
    channel = bot.get_channel(loud.id)
    assert isinstance(channel, discord.TextChannel)
    alice, bob = scene.alice, scene.bob
    prompt = f"@everyone look <@{bob.id}> <@&{mods.id}>"

    default = await channel.send(f"{alice.mention}: {prompt}")
    assert fake.mentions_pinged(fake.message(default.id)) == {
        alice.id,
        bob.id,
        mods.id,
        scene.guild.id,
    }

    only_requester = await channel.send(
        f"{alice.mention}: {prompt}",
        allowed_mentions=discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(alice.id)]
        ),
    )
    assert fake.mentions_pinged(fake.message(only_requester.id)) == {alice.id}
    assert [u.id for u in only_requester.mentions] == [alice.id]

    silent = await channel.send(prompt, allowed_mentions=discord.AllowedMentions.none())
    assert fake.mentions_pinged(fake.message(silent.id)) == set()


async def test_everyone_and_roles_need_mention_everyone(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    scene = build_scene(fake)
    mods = fake.add_role(scene.guild, "Mods")
    helpers = fake.add_role(scene.guild, "Helpers", mentionable=True)
    bot = await start_bot(fake)
    channel = bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(f"@here <@&{mods.id}> <@&{helpers.id}> <@{scene.bob.id}>")
    pings = fake.pings(fake.message(sent.id))
    assert pings.users == {scene.bob.id}
    assert pings.roles == {helpers.id}
    assert not pings.everyone


async def test_reply_pings_the_author_unless_told_not_to(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    scene = build_scene(fake)
    bot = await start_bot(fake)
    question = await fake.post_user_message(scene.channel, scene.bob, "is my video done?")
    channel = bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    target = channel.get_partial_message(question.id)
    replied = await target.reply("yes")
    assert fake.mentions_pinged(fake.message(replied.id)) == {scene.bob.id}
    assert fake.message(replied.id).type == 19
    quiet = await target.reply("yes", mention_author=False)
    assert fake.mentions_pinged(fake.message(quiet.id)) == set()


async def test_deferred_response_pings_when_its_content_arrives(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    scene = build_scene(fake)
    await start_bot(fake)
    interaction = await fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="generate", options={"prompt": "@everyone"}
    )
    status = await fake.wait_for_message(scene.channel, lambda m: m.content.startswith("Queued"))
    assert fake.mentions_pinged(status) == set()
    followup = await interaction.wait_followup()
    assert fake.mentions_pinged(followup) == set()
