"""The result card end to end: the prompt, the options and the video inline in one
Components V2 message that pings only the requester, and Edit & re-roll's form, which
makes a new job through every usual check, in English and German, after a restart too."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.discord_ui import edit_reroll
from testkit.discord import FakeInteraction, FakeMessage
from testkit.waiting import eventually
from tests.e2e.harness import World, embed_text
from tests.e2e.test_multishot import SHOTS, open_form

PROMPT = "a **bold** fox <@{bob}> @everyone runs through snow"
EDIT_PROMPT = "edit-prompt"
EDIT_NEGATIVE = "edit-negative-prompt"
EDIT_OPTIONS = "edit-options"


async def delivered(world: World, interaction: FakeInteraction) -> tuple[int, FakeMessage]:
    job_id, _ = await world.started_job(interaction)
    return job_id, await world.wait_for_notice(job_id, within=30)


def form_values(ack: Any) -> dict[str, str | None]:
    """A form's boxes as Discord shows them: custom id → pre-filled value."""
    found: dict[str, str | None] = {}

    def visit(component: dict[str, Any]) -> None:
        if component.get("type") == 4:
            found[component["custom_id"]] = component.get("value")
        for child in component.get("components") or []:
            visit(child)
        if isinstance(component.get("component"), dict):
            visit(component["component"])

    for component in ack.data["components"]:
        visit(component)
    return found


def form_labels(ack: Any) -> list[str]:
    labels: list[str] = []

    def visit(component: dict[str, Any]) -> None:
        if component.get("label"):
            labels.append(component["label"])
        for child in component.get("components") or []:
            visit(child)
        if isinstance(component.get("component"), dict):
            visit(component["component"])

    for component in ack.data["components"]:
        visit(component)
    return labels


async def open_edit(world: World, card: FakeMessage, job_id: int, member: Any) -> FakeInteraction:
    pressed = await world.fake.click_button(card, f"video:edit:{job_id}", member)
    ack = await pressed.wait_ack()
    assert ack.type == 9, "the form opens at once"
    assert pressed.acked_after < 3.0
    return pressed


async def test_the_card_shows_what_made_the_video_and_plays_it(world: World) -> None:
    prompt = PROMPT.format(bob=world.bob.id)
    interaction = await world.generate(
        prompt=prompt,
        duration=7,
        aspect_ratio="1:1",
        sound=False,
        cfg_scale=0.8,
        negative_prompt="blurry _text_",
    )
    job_id, card = await delivered(world, interaction)
    assert card.is_v2
    assert card.content in ("", None), "a card has no content beside it"
    text = card.text
    assert text.startswith(f"<@{world.alice.id}> your video **#{job_id}** is ready!")
    assert f"> a \\*\\*bold\\*\\* fox <@{world.bob.id}> @everyone runs through snow" in text
    assert "**Options** 7 s · 1:1 · no sound · guidance 0.8" in text
    assert "**Avoid** blurry \\_text\\_" in text
    assert text.endswith("\n1.0 s · 64×36 · 0.0 MB · cost $0.59"), "the file's own facts"
    [item] = card.media_items
    [attachment] = card.attachments
    assert card.attachment_for(item) is attachment
    assert attachment.filename == f"video-{job_id}.mp4"
    request_id = next(iter(world.emulator.jobs))
    assert attachment.read() == world.emulator.video_bytes(request_id)
    assert world.fake.mentions_pinged(card) == {world.alice.id}, "bob and @everyone stay quiet"
    assert card.custom_ids == [
        f"video:reroll:{job_id}",
        f"video:edit:{job_id}",
        f"video:delete:{job_id}",
    ]
    await world.wait_for_status(await world.status_message(job_id), "Delivered")
    stored = await world.bot.tracker.fetch(job_id)
    assert stored.notice_message_id == card.id, "the status card's link points here"


async def test_a_video_too_large_is_a_card_with_its_link_and_buttons(make_world) -> None:
    world = await make_world(guild_options={"upload_limit": 2000})
    job_id, card = await delivered(world, await world.generate())
    assert card.is_v2
    assert card.attachments == []
    assert card.media_items == []
    assert "upload limit" in card.text
    assert next(iter(world.emulator.jobs)) in card.text, "the way to the original"
    assert f"video:edit:{job_id}" in card.custom_ids


async def test_edit_and_reroll_makes_a_new_job_with_the_changed_values(world: World) -> None:
    job_id, card = await delivered(world, await world.generate(negative_prompt="rain"))
    form = await open_edit(world, card, job_id, world.bob)
    values = form_values(await form.wait_ack())
    assert values == {
        EDIT_PROMPT: "a red fox running through fresh snow at dawn",
        EDIT_NEGATIVE: "rain",
        EDIT_OPTIONS: "5 s · 16:9 · sound on · guidance 0.5",
    }
    sent = await world.fake.submit_modal(
        form,
        {
            EDIT_PROMPT: "a grey wolf running through fresh snow at dusk",
            EDIT_NEGATIVE: "",
            EDIT_OPTIONS: "10 s · 16:9 · sound on · guidance 0.5",
        },
    )
    new_id, status = await world.started_job(sent)
    assert new_id != job_id
    assert f"re-roll of #{job_id}" in embed_text(status)
    await world.wait_for_notice(new_id, within=30)
    _, second = world.emulator.jobs.values()
    assert second.payload == {
        "prompt": "a grey wolf running through fresh snow at dusk",
        "duration": 10,
    }
    rerolled = await world.bot.tracker.fetch(new_id)
    assert (rerolled.parent_id, rerolled.requester_id) == (job_id, world.bob.id)


async def test_a_multishot_job_gets_its_shots_back(world: World) -> None:
    shots_form = await open_form(world, aspect_ratio="9:16")
    job_id, card = await delivered(world, await world.fake.submit_modal(shots_form, SHOTS))
    assert "**Shots**\n1. 4 s — a wide shot of a harbour at dawn, gulls circling" in card.text

    form = await open_edit(world, card, job_id, world.alice)
    values = form_values(await form.wait_ack())
    assert values[EDIT_OPTIONS] == "9:16 · sound on · guidance 0.5", "its length is its shots'"
    sent = await world.fake.submit_modal(form, {EDIT_PROMPT: "a busy morning in the village"})
    answer = await world.answer(sent)
    assert sent.ephemeral
    assert "Now the shots" in answer.text
    [edit_shots] = answer.custom_ids
    reopened = await world.fake.click_button(answer, edit_shots, world.alice)
    assert (await reopened.wait_ack()).type == 9
    boxes = form_values(await reopened.wait_ack())
    assert boxes == {
        "shot-1": "4 | a wide shot of a harbour at dawn, gulls circling",
        "shot-2": "6 | a fishing boat leaves the quay",
        "shot-3": "3 | close-up of the captain smiling",
        "shot-4": None,
        "shot-5": None,
    }
    new_id, _ = await world.started_job(await world.fake.submit_modal(reopened, {}))
    await eventually(lambda: len(world.emulator.jobs) == 2, what="the re-roll submitted")
    first, second = world.emulator.jobs.values()
    assert second.payload == {**first.payload, "prompt": "a busy morning in the village"}
    assert (await world.bot.tracker.fetch(new_id)).parent_id == job_id


async def test_an_invalid_edit_is_refused_privately_and_keeps_what_was_typed(world: World) -> None:
    job_id, card = await delivered(world, await world.generate())
    form = await open_edit(world, card, job_id, world.alice)
    typed = {EDIT_PROMPT: "a heron on one leg", EDIT_OPTIONS: "12 parsecs, 9:16"}
    refused = await world.fake.submit_modal(form, typed)
    answer = await world.answer(refused)
    assert refused.ephemeral
    assert "could not read: “parsecs”" in answer.text
    assert "`5 s · 16:9 · sound on · guidance 0.5`" in answer.text, "how to write them"
    assert "Nothing was sent or charged" in answer.text
    assert world.emulator.submit_count == 1

    [again] = answer.custom_ids
    reopened = await world.fake.click_button(answer, again, world.alice)
    kept = form_values(await reopened.wait_ack())
    assert kept[EDIT_PROMPT] == "a heron on one leg"
    assert kept[EDIT_OPTIONS] == "12 parsecs, 9:16", "nothing typed is lost"
    too_long = await world.fake.submit_modal(reopened, {EDIT_OPTIONS: "20 s"})
    answer = await world.answer(too_long)
    assert "`duration` must be a whole number of seconds from 3 to 15" in answer.text

    [again] = answer.custom_ids
    fixed = await world.fake.click_button(answer, again, world.alice)
    assert (await fixed.wait_ack()).type == 9
    sent = await world.fake.submit_modal(fixed, {EDIT_OPTIONS: "12 s, 9:16"})
    new_id, _ = await world.started_job(sent)
    await eventually(lambda: world.emulator.submit_count == 2, what="the re-roll submitted")
    _, second = world.emulator.jobs.values()
    assert second.payload == {
        "prompt": "a heron on one leg",
        "duration": 12,
        "aspect_ratio": "9:16",
    }
    assert (await world.bot.tracker.fetch(new_id)).parent_id == job_id


async def test_an_edit_meets_the_same_checks_as_a_command(world: World) -> None:
    await world.answer(await world.command("settings quota", world.admin, seconds_per_member=8))
    job_id, card = await delivered(world, await world.generate(duration=5))
    form = await open_edit(world, card, job_id, world.alice)
    sent = await world.fake.submit_modal(form, {EDIT_PROMPT: "a slower fox"})
    answer = await world.answer(sent)
    assert "over your daily quota of 8 s (5 s used, 3 s left)" in answer.text
    assert answer.ephemeral, "nothing public is left behind"
    assert world.emulator.submit_count == 1


async def test_the_card_buttons_work_after_a_restart(world: World) -> None:
    job_id, card = await delivered(world, await world.generate())
    await world.restart_bot()
    form = await open_edit(world, card, job_id, world.alice)
    sent = await world.fake.submit_modal(form, {EDIT_OPTIONS: "3 s"})
    new_id, _ = await world.started_job(sent)
    await world.wait_for_notice(new_id, within=30)
    delete = await world.fake.click_button(card, f"video:delete:{job_id}", world.alice)
    await world.answer(delete)
    await eventually(lambda: world.fake.message(card.id).deleted, what="the card removed")


async def test_card_and_form_in_german(make_world) -> None:
    world: World = await make_world(start=False)
    world.guild.preferred_locale = "de"
    world.alice.locale = "de"
    world.bob.locale = "en-US"
    await world.start_bot()
    job_id, card = await delivered(world, await world.generate(duration=6, sound=False))
    assert f"dein Video **#{job_id}** ist fertig!" in card.text
    assert "**Optionen** 6 s · 16:9 · ohne Ton · Prompt-Treue 0,5" in card.text
    assert "Neu würfeln" in str(card.buttons)

    form = await open_edit(world, card, job_id, world.alice)
    ack = await form.wait_ack()
    assert "Länge · Format · Ton · Prompt-Treue" in form_labels(ack)
    assert form_values(ack)[EDIT_OPTIONS] == "6 s · 16:9 · ohne Ton · Prompt-Treue 0,5"
    sent = await world.fake.submit_modal(
        form, {EDIT_OPTIONS: "8 Sekunden, 9:16, mit Ton, Prompt-Treue 0,7"}
    )
    await world.started_job(sent)
    await eventually(lambda: world.emulator.submit_count == 2, what="the re-roll submitted")
    _, second = world.emulator.jobs.values()
    assert second.payload == {
        "prompt": "a red fox running through fresh snow at dawn",
        "duration": 8,
        "aspect_ratio": "9:16",
        "cfg_scale": 0.7,
        "sound": True,
    }

    english = await open_edit(world, card, job_id, world.bob)
    ack = await english.wait_ack()
    assert "Length · shape · sound · guidance" in form_labels(ack)
    assert form_values(ack)[EDIT_OPTIONS] == "6 s · 16:9 · no sound · guidance 0.5"
    refused = await world.fake.submit_modal(english, {EDIT_OPTIONS: "6 s, loud"})
    assert "could not read: “loud”" in (await world.answer(refused)).text


async def test_a_slow_lookup_offers_the_form_behind_a_button(world: World, monkeypatch) -> None:
    job_id, card = await delivered(world, await world.generate())
    tracker = world.bot.tracker
    fetch = tracker.fetch

    async def slow_fetch(job: int) -> Any:
        await asyncio.sleep(0.2)
        return await fetch(job)

    monkeypatch.setattr(tracker, "fetch", slow_fetch)
    monkeypatch.setattr(edit_reroll, "LOOKUP_SECONDS", 0.05)
    pressed = await world.fake.click_button(card, f"video:edit:{job_id}", world.alice)
    ack = await pressed.wait_ack()
    assert ack.type == 5, "acknowledged before the job was found"
    assert pressed.ephemeral
    answer = await world.answer(pressed)
    assert f"to open the form for video #{job_id}" in answer.text
    [open_form_id] = answer.custom_ids
    form = await world.fake.click_button(answer, open_form_id, world.alice)
    assert form_values(await form.wait_ack())[EDIT_PROMPT] == (
        "a red fox running through fresh snow at dawn"
    )
    new_id, _ = await world.started_job(await world.fake.submit_modal(form, {}))
    assert (await world.bot.tracker.fetch(new_id)).parent_id == job_id
