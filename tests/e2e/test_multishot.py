"""/video multishot: the shots form, its rules, and what RunComfy receives."""

from __future__ import annotations

from testkit.waiting import eventually
from tests.e2e.harness import embed_text

SHOTS = {
    "shot-1": "4 | a wide shot of a harbour at dawn, gulls circling",
    "shot-2": "6s: a fishing boat leaves the quay",
    "shot-3": "",
    "shot-4": "3 - close-up of the captain smiling",
    "shot-5": "",
}


async def open_form(world, **options):
    options.setdefault("prompt", "a quiet morning in a fishing village")
    interaction = await world.command("multishot", **options)
    ack = await interaction.wait_ack()
    assert ack.type == 9, "a modal opens at once"
    return interaction


async def test_shots_become_a_customized_multi_prompt(world) -> None:
    form = await open_form(world, aspect_ratio="9:16")
    submitted = await world.fake.submit_modal(form, SHOTS)
    job_id, status = await world.started_job(submitted)
    await eventually(lambda: bool(world.emulator.jobs), what="the submit")
    [job] = world.emulator.jobs.values()
    assert job.payload == {
        "prompt": "a quiet morning in a fishing village",
        "duration": 13,
        "aspect_ratio": "9:16",
        "shot_type": "customize",
        "multi_prompt": [
            {"prompt": "a wide shot of a harbour at dawn, gulls circling", "duration": 4},
            {"prompt": "a fishing boat leaves the quay", "duration": 6},
            {"prompt": "close-up of the captain smiling", "duration": 3},
        ],
    }
    text = embed_text(status)
    assert "13 s · 9:16" in text
    assert "3 shots" in text
    assert "2. 6 s — a fishing boat leaves the quay" in text
    await world.wait_for_notice(job_id)


async def test_an_error_names_the_shot_and_the_form_can_be_reopened(world) -> None:
    form = await open_form(world)
    wrong = {**SHOTS, "shot-2": "20 | a fishing boat leaves the quay"}
    submitted = await world.fake.submit_modal(form, wrong)
    answer = await world.answer(submitted)
    assert submitted.ephemeral
    assert "Shot 2 must last from 3 to 15 seconds; it has 20." in answer.content
    assert "Nothing was sent or charged" in answer.content
    assert world.emulator.submit_count == 0

    [edit_id] = answer.custom_ids
    reopened = await world.fake.click_button(answer, edit_id, world.alice)
    ack = await reopened.wait_ack()
    assert ack.type == 9
    boxes = {
        component["custom_id"]: component.get("value")
        for row in ack.data["components"]
        for component in row["components"]
    }
    assert boxes["shot-2"] == "20 | a fishing boat leaves the quay", "nothing typed is lost"

    fixed = await world.fake.submit_modal(reopened, {**wrong, "shot-2": "6 | the boat"})
    await world.started_job(fixed)


async def test_the_total_must_fit_a_video(world) -> None:
    form = await open_form(world)
    long = {"shot-1": "6 | a", "shot-2": "6 | b", "shot-3": "6 | c", "shot-4": "", "shot-5": ""}
    answer = await world.answer(await world.fake.submit_modal(form, long))
    assert "6 + 6 + 6 = 18 s" in answer.content
    assert "3–15 seconds in total" in answer.content


async def test_a_shot_without_a_length_is_explained(world) -> None:
    form = await open_form(world)
    answer = await world.answer(
        await world.fake.submit_modal(form, {**SHOTS, "shot-1": "a harbour at dawn"})
    )
    assert "Shot 1 must start with its length in seconds" in answer.content
    assert "`5 | a slow pan across the harbour at dawn`" in answer.content
