"""Every text fits Discord's limits however many roles or channels a server configures."""

from __future__ import annotations

from tests.e2e.harness import embed_text

MANY = ",".join(str(10**17 + number) for number in range(300))


async def test_a_refusal_listing_hundreds_of_channels_fits(make_world) -> None:
    world = await make_world(env={"VIDEO_CHANNEL_IDS": MANY})
    interaction = await world.generate()
    refusal = (await interaction.wait_ack()).data["content"]
    assert refusal.startswith("❌ Videos can be made in <#")
    assert "more on this server" in refusal
    assert len(refusal) <= 2000
    assert world.fake.errors == []


async def test_settings_with_hundreds_of_roles_and_channels_fit(make_world) -> None:
    world = await make_world(env={"VIDEO_CHANNEL_IDS": MANY, "MODERATOR_ROLE_IDS": MANY})
    answer = await world.answer(await world.command("settings show", world.admin))
    shown = answer.embeds[0]
    assert all(len(field["value"]) <= 1024 for field in shown["fields"])
    assert "and 2" in embed_text(answer)
    assert world.fake.errors == []
