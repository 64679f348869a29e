"""German and English: private answers in the member's Discord language, public messages
(status, video, failure, audit) in the server's, and the commands registered in both."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.i18n import FALLBACK, catalog_path, placeholders, read_catalog
from bot.jobs.model import JobState
from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.e2e.conftest import everything_sent
from tests.e2e.harness import World, cancel_id, embed_text

LANGUAGES = ["de", "en-US"]
PUBLIC = {
    "de": {"asked": "Angefragt von", "ready": "ist fertig!", "failed": "konnte nicht erstellt"},
    "en-US": {"asked": "Requested by", "ready": "is ready!", "failed": "could not be made."},
}
PRIVATE = {
    "de": {"refused": "Nur wer dieses Video angefragt hat", "cancelled": "ist abgebrochen"},
    "en-US": {"refused": "Only the person who asked", "cancelled": "is cancelled"},
}


def forms(entry: str | tuple[str, ...]) -> tuple[str, ...]:
    return (entry,) if isinstance(entry, str) else entry


def english_fragments() -> set[str]:
    """Long stretches of English catalog text (between placeholders) German never uses."""
    english = read_catalog(catalog_path(FALLBACK), FALLBACK).messages
    german = read_catalog(catalog_path("de"), "de").messages
    german_text = " ".join(
        text
        for entry in german.values()
        for text in ((entry,) if isinstance(entry, str) else entry)
    )
    fragments: set[str] = set()
    for entry in english.values():
        for text in forms(entry):
            for name in placeholders(text):
                text = text.replace("{" + name + "}", "\0")
            fragments.update(
                part.strip()
                for part in text.split("\0")
                if len(part.strip()) >= 16 and part.strip() not in german_text
            )
    return fragments


def assert_nothing_english(world: World) -> None:
    fragments = english_fragments()
    for sent in everything_sent(world):
        readable = sent.encode().decode("unicode_escape", errors="ignore")
        found = [fragment for fragment in fragments if fragment in readable]
        assert not found, f"English text reached a German reader: {found} in {readable[:300]}"


async def speaking(make_world: Any, server: str, member: str, **options: Any) -> World:
    world: World = await make_world(start=False, **options)
    world.guild.preferred_locale = server
    for person in (world.alice, world.bob, world.admin, world.mod_by_permission):
        person.locale = member
    await world.start_bot()
    return world


@pytest.mark.parametrize("member", LANGUAGES)
@pytest.mark.parametrize("server", LANGUAGES)
async def test_a_video_in_the_servers_language(make_world: Any, server: str, member: str) -> None:
    world = await speaking(make_world, server, member)
    job_id, status = await world.started_job(await world.generate())
    assert PUBLIC[server]["asked"] in embed_text(status)
    notice = await world.wait_for_notice(job_id, within=30)
    assert PUBLIC[server]["ready"] in notice.text
    if server == member == "de":
        assert "MB" in notice.text
        assert "," in notice.text.split("MB")[0][-6:]
        assert_nothing_english(world)


@pytest.mark.parametrize("member", LANGUAGES)
@pytest.mark.parametrize("server", LANGUAGES)
async def test_refusal_and_cancel_in_the_members_language(
    make_world: Any, server: str, member: str
) -> None:
    world = await speaking(make_world, server, member, emulator_options={"workers": 0})
    job_id, status = await world.started_job(await world.generate())
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.state is JobState.QUEUED,
        what="queued at RunComfy",
    )
    refused = await world.fake.click_button(status, cancel_id(job_id), world.bob)
    reply = await refused.wait_original(lambda m: bool(m.content))
    assert refused.ephemeral
    assert PRIVATE[member]["refused"] in reply.content
    click = await world.fake.click_button(status, cancel_id(job_id), world.alice)
    answer = await click.wait_original(lambda m: PRIVATE[member]["cancelled"] in (m.content or ""))
    assert click.ephemeral
    assert answer.content
    cancelled = "Abgebrochen von" if server == "de" else "Cancelled by"
    await world.wait_for_status(status, cancelled)
    if server == member == "de":
        assert_nothing_english(world)


@pytest.mark.parametrize("server", LANGUAGES)
async def test_a_failure_in_the_servers_language(make_world: Any, server: str) -> None:
    world = await speaking(make_world, server, "en-US")
    world.emulator.script_outcomes(JobOutcome.fail("the model could not render this prompt"))
    job_id, _ = await world.started_job(await world.generate())
    notice = await world.wait_for_notice(job_id, within=30)
    assert PUBLIC[server]["failed"] in notice.text
    assert "the model could not render this prompt" in notice.text, "RunComfy's own words"


async def test_the_language_setting_overrides_discords(make_world: Any) -> None:
    world = await speaking(make_world, "en-US", "en-US")
    answer = await world.answer(
        await world.command("settings language", world.admin, language="de")
    )
    assert "Saved" in answer.content
    job_id, status = await world.started_job(await world.generate())
    assert "Angefragt von" in embed_text(status)
    notice = await world.wait_for_notice(job_id, within=30)
    assert "ist fertig!" in notice.text


async def test_a_job_keeps_its_language_after_a_restart(make_world: Any) -> None:
    world = await speaking(make_world, "de", "de", emulator_options={"workers": 0})
    job_id, status = await world.started_job(await world.generate())
    await world.restart_bot()
    world.guild.preferred_locale = "en-US"
    world.emulator.set_workers(1)
    notice = await world.wait_for_notice(job_id, within=30)
    assert "ist fertig!" in notice.text
    assert "Zugestellt" in embed_text(await world.wait_for_status(status, "Zugestellt"))


async def test_commands_are_registered_with_german_localizations(world: World) -> None:
    registered = world.fake.registered_commands()
    assert sorted(command["name"] for command in registered) == ["session", "video"]
    [video] = [command for command in registered if command["name"] == "video"]
    assert video["description_localizations"]["de"] == "Kurze Videos mit Kling 3.0 erstellen"
    sub = {option["name"]: option for option in video["options"]}
    assert sub["generate"]["name_localizations"]["de"] == "erstellen"
    assert sub["cancel"]["name_localizations"]["de"] == "abbrechen"
    names = re.compile(r"^[-_\w]{1,32}$")

    def walk(option: dict[str, Any]) -> None:
        for name in option.get("name_localizations", {}).values():
            assert names.match(name)
            assert name == name.lower()
        for text in option.get("description_localizations", {}).values():
            assert 1 <= len(text) <= 100
        for choice in option.get("choices", []):
            assert "de" in choice.get("name_localizations", {})
        for child in option.get("options", []):
            assert "de" in child.get("name_localizations", {}), child["name"]
            walk(child)

    for command in registered:
        walk(command)


async def test_settings_in_the_members_language(make_world: Any) -> None:
    world = await speaking(make_world, "en-US", "de")
    shown = await world.answer(await world.command("settings show", world.admin))
    assert "Tageskontingent pro Mitglied" in embed_text(shown)
    refused = await world.answer(await world.command("settings limits", world.admin, per_member=0))
    assert refused.content == (
        "❌ Videos gleichzeitig pro Mitglied muss eine ganze Zahl von 1 bis 100 sein. "
        "Es wurde nichts geändert."
    )
    assert_nothing_english(world)


REFUSED_BLANK = {
    "de": "❌ `prompt` muss ein Text mit 1 bis 2.500 Zeichen sein. Du hast nur Leerzeichen "
    "angegeben. Nichts wurde gesendet oder berechnet.",
    "en-US": "❌ `prompt` must be text of 1 to 2,500 characters. You gave only spaces. "
    "Nothing was sent or charged.",
}


@pytest.mark.parametrize("member", LANGUAGES)
async def test_a_refused_prompt_in_the_members_language(make_world: Any, member: str) -> None:
    world = await speaking(make_world, "en-US" if member == "de" else "de", member)
    interaction = await world.generate(prompt="     ")
    ack = await interaction.wait_ack()
    assert interaction.ephemeral
    assert ack.data["content"] == REFUSED_BLANK[member]
    assert world.emulator.submit_count == 0
    if member == "de":
        assert_nothing_english(world)


@pytest.mark.parametrize(
    ("member", "said"),
    [
        ("de", "Szene 2 muss 3 bis 15 Sekunden dauern; sie hat 20."),
        ("en-US", "Shot 2 must last from 3 to 15 seconds; it has 20."),
    ],
)
async def test_a_refused_shot_in_the_members_language(
    make_world: Any, member: str, said: str
) -> None:
    world = await speaking(make_world, "en-US", member)
    form = await world.command("multishot", prompt="a quiet morning in a fishing village")
    await form.wait_ack()
    shots = {"shot-1": "4 | a harbour", "shot-2": "20 | a boat", "shot-3": "", "shot-4": ""}
    answer = await world.answer(await world.fake.submit_modal(form, {**shots, "shot-5": ""}))
    assert said in answer.content
    assert world.emulator.submit_count == 0
    if member == "de":
        assert "Szenen bearbeiten" in json.dumps(answer.components, ensure_ascii=False)
        assert_nothing_english(world)
