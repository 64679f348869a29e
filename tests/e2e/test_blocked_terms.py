"""Blocked terms end to end: managed privately by server managers, looked for in the
prompt, the negative prompt and every shot through the evasions the bot reads back, and a
refused prompt answered privately in the member's language with nothing sent or spent,
while the audit channel says which term; harmless prompts that contain a term pass."""

from __future__ import annotations

import pytest

from tests.e2e.harness import World, embed_text

REFUSED = "❌ Your request contains a term this server does not allow. Nothing was sent or charged."


async def add_terms(world: World, *terms: str) -> None:
    for term in terms:
        answer = await world.answer(
            await world.command("settings blocked", world.admin, action="add", term=term)
        )
        assert answer.content.startswith("✅ Added"), answer.content
        assert answer.ephemeral


@pytest.fixture
async def policed(world: World) -> World:
    audit = world.fake.add_text_channel(world.guild, "mod-log")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    await add_terms(world, "nude", "blue waffle", "ass")
    return world


async def test_only_server_managers_manage_terms(world: World) -> None:
    refused = await world.answer(
        await world.command("settings blocked", world.mod_by_permission, action="add", term="x")
    )
    assert "Manage Server" in refused.content
    assert world.bot is not None
    assert not world.bot.policy.get(world.guild.id).terms
    await add_terms(world, "nude")
    again = await world.answer(
        await world.command("settings blocked", world.admin, action="add", term="N.U.D.E")
    )
    assert again.content == "This term is already blocked. Blocked terms on this server: 1."
    removed = await world.answer(
        await world.command("settings blocked", world.admin, action="remove", term="Nude")
    )
    assert removed.content == "✅ Removed. Blocked terms on this server: 0."


@pytest.mark.parametrize(
    ("prompt", "term"),
    [
        ("a NUDE statue in a museum", "nude"),
        ("a Nüde statue in a museum", "nude"),
        ("a n u d e statue in a museum", "nude"),
        ("a n.u.d.e statue in a museum", "nude"),
        ("a nu\u200bde statue in a museum", "nude"),
        ("a nud3 statue in a museum", "nude"),
        ("two friends eat a Blue-Waffle", "blue waffle"),
        ("what a bad-ass car", "ass"),
        ("an @ss in a field", "ass"),
    ],
)
async def test_evasions_are_refused_privately_and_nothing_is_spent(
    policed: World, prompt: str, term: str
) -> None:
    """Mixed case, accents, spacing, dots, zero-width characters, digits and signs for
    letters (the folds are listed in bot/policy/terms.py)."""
    world = policed
    answer = await world.answer(await world.generate(prompt=prompt))
    assert answer.content == REFUSED
    assert answer.ephemeral
    assert world.emulator.submit_count == 0
    assert world.bot is not None
    assert await world.bot.tracker.recent(guild_id=world.guild.id) == [], "nothing stored"
    usage = embed_text(await world.answer(await world.command("usage")))
    assert "Today: $0.00 (0 videos, 0 s)" in usage, "no quota or budget spent"
    line = await _audit_line(world)
    assert f"<@{world.alice.id}> used the blocked term “{term}” in the prompt" in line
    assert "\n> " in line, "the prompt is quoted"


async def _audit_line(world: World) -> str:
    channel = next(c for c in world.guild.channels.values() if c.name == "mod-log")
    message = await world.fake.wait_for_message(
        channel, lambda m: "blocked term" in (m.content or "")
    )
    return message.content or ""


async def test_the_audit_line_names_the_term_and_where_it_was(policed: World) -> None:
    world = policed
    answer = await world.answer(
        await world.generate(prompt="a quiet lake", negative_prompt="no nüde people")
    )
    assert answer.content == REFUSED
    line = await _audit_line(world)
    assert "“nude” in the negative prompt" in line
    assert f"in <#{world.channel.id}>" in line
    assert "> no nüde people" in line


async def test_every_shot_is_looked_at(policed: World) -> None:
    world = policed
    form = await world.command("multishot", prompt="a day at the fair")
    await form.wait_ack()
    submitted = await world.fake.submit_modal(
        form, {"shot-1": "5 | a carousel", "shot-2": "5 | a blue  waffle stand"}
    )
    answer = await world.answer(submitted)
    assert answer.content == REFUSED
    assert "“blue waffle” in shot 2" in await _audit_line(world)
    assert world.emulator.submit_count == 0


@pytest.mark.parametrize(
    "prompt",
    [
        "a class of students passes a glass house",
        "an assassin in Massachusetts at dawn",
        "a blue sky over a waffle stand, 5 s, 4k",
        "a quiet menu, denuded trees",
    ],
)
async def test_harmless_prompts_pass(policed: World, prompt: str) -> None:
    await policed.started_job(await policed.generate(prompt=prompt))


async def test_a_german_member_reads_the_refusal_in_german(policed: World) -> None:
    world = policed
    hans = world.fake.add_member(world.guild, "hans")
    hans.locale = "de"
    answer = await world.answer(await world.generate(hans, prompt="eine NÜDE Statue"))
    assert answer.content == (
        "❌ Deine Anfrage enthält einen Begriff, den dieser Server nicht erlaubt. "
        "Nichts wurde gesendet oder berechnet."
    )


async def test_a_reroll_of_a_prompt_with_a_new_term_is_refused(world: World) -> None:
    job_id, _ = await world.started_job(await world.generate(prompt="a red fox in snow"))
    notice = await world.wait_for_notice(job_id)
    await add_terms(world, "fox")
    pressed = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.bob)
    answer = await world.answer(pressed)
    assert answer.content == REFUSED
    assert answer.ephemeral
    assert world.emulator.submit_count == 1


async def test_terms_are_shown_only_to_managers_and_moderators_on_pages(world: World) -> None:
    await add_terms(world, *(f"term number {n:03}" for n in range(60)))
    shown = await world.answer(await world.command("settings show", world.bob))
    assert "Video settings for this server" in embed_text(shown)
    pages = [c for row in shown.components for c in row.get("components", [])]
    assert len(pages) == 2, "◀ ▶"
    next_page = await world.fake.click_button(shown, pages[1]["custom_id"], world.bob)
    await next_page.wait_ack()
    tiers = world.fake.message(shown.id)
    text = embed_text(tiers)
    assert "60 blocked terms (shown to moderators and server managers)" in text
    assert "term number" not in text

    shown = await world.answer(await world.command("settings show", world.admin))
    seen: list[str] = []
    message = shown
    for _ in range(6):
        seen.append(embed_text(message))
        buttons = [c for row in message.components for c in row.get("components", [])]
        if buttons[1].get("disabled"):
            break
        click = await world.fake.click_button(message, buttons[1]["custom_id"], world.admin)
        await click.wait_ack()
        message = world.fake.message(shown.id)
    everything = "\n".join(seen)
    assert all(f"term number {n:03}" in everything for n in range(60))
    assert "Blocked terms (60)" in everything
    assert "Nobody is blocked." in everything
