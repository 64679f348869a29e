"""Threads over raw HTTP: starting one from a message or without one, what Discord refuses
(with its codes), posting by the thread permissions, a thread's own rate-limit bucket,
archived and locked threads, and the moderator helpers."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from testkit.discord import FakeChannel, FakeDiscordUsageError, permissions

from .conftest import MakeFake, Scene, Silent, build_scene
from .raw_api import RawApi, error_paths

BOT = permissions.DEFAULT_BOT | permissions.THREADS
HAS_THREAD = 1 << 5


async def start(
    api: RawApi, channel_id: int, message_id: int | str, **body: Any
) -> tuple[int, Any]:
    body.setdefault("name", "gallery")
    path = f"/channels/{channel_id}/messages/{message_id}/threads"
    return await api.request("POST", path, json=body)


async def posted(api: RawApi, scene: Scene) -> dict[str, Any]:
    status, sent = await api.send(scene.channel.id, {"content": "Session: cats"})
    assert status == 200, sent
    return dict(sent)


@pytest.fixture
async def threaded(raw: tuple[RawApi, Scene]) -> tuple[RawApi, Scene]:
    api, scene = raw
    scene.fake.set_bot_permissions(scene.channel, BOT)
    return api, scene


async def test_a_thread_started_from_a_message_shares_its_id(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    sent = await posted(api, scene)
    status, thread = await start(api, scene.channel.id, sent["id"], auto_archive_duration=60)
    assert status == 201, thread
    assert thread["id"] == sent["id"]
    assert (thread["type"], thread["parent_id"], thread["owner_id"]) == (
        11,
        str(scene.channel.id),
        str(fake.bot_user.id),
    )
    assert thread["thread_metadata"]["archived"] is False
    assert thread["thread_metadata"]["auto_archive_duration"] == 60
    assert thread["member"]["user_id"] == str(fake.bot_user.id)
    status, fetched = await api.request("GET", f"/channels/{thread['id']}")
    assert (status, fetched["name"]) == (200, "gallery")
    [made] = fake.threads_of(scene.channel)
    assert made.parent is scene.channel
    starter = fake.message(int(sent["id"]))
    assert starter.thread is made
    status, again = await api.request("GET", f"/channels/{scene.channel.id}/messages/{sent['id']}")
    assert again["thread"]["id"] == sent["id"]
    assert again["flags"] & HAS_THREAD
    status, answer = await start(api, scene.channel.id, sent["id"], name="second")
    assert (status, answer["code"]) == (400, 160004)
    assert answer["message"] == "A thread has already been created for this message"


REFUSED_BODIES: dict[str, tuple[dict[str, Any], str, str]] = {
    "no name": ({"name": None}, "name", "BASE_TYPE_REQUIRED"),
    "empty name": ({"name": ""}, "name", "BASE_TYPE_BAD_LENGTH"),
    "name over 100": ({"name": "n" * 101}, "name", "BASE_TYPE_BAD_LENGTH"),
    "archive after 30 minutes": (
        {"auto_archive_duration": 30},
        "auto_archive_duration",
        "BASE_TYPE_CHOICES",
    ),
    "slowmode over six hours": (
        {"rate_limit_per_user": 21601},
        "rate_limit_per_user",
        "NUMBER_TYPE_MAX",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BODIES))
async def test_a_refused_thread_body_answers_50035(
    threaded: tuple[RawApi, Scene], case: str
) -> None:
    api, scene = threaded
    sent = await posted(api, scene)
    body, path, code = REFUSED_BODIES[case]
    path_url = f"/channels/{scene.channel.id}/messages/{sent['id']}/threads"
    status, answer = await api.request("POST", path_url, json={"name": "ok", **body})
    assert (status, answer["code"]) == (400, 50035), answer
    assert code in error_paths(answer)[path]
    assert scene.fake.threads_of(scene.channel) == []


async def test_starting_a_thread_is_refused_as_discord_refuses_it(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    sent = await posted(api, scene)
    other = fake.add_text_channel(scene.guild, "other", bot_permissions=BOT)
    status, answer = await start(api, other.id, sent["id"])
    assert (status, answer["code"]) == (404, 10008)
    status, thread = await start(api, scene.channel.id, sent["id"])
    assert status == 201
    status, inside = await api.send(int(thread["id"]), {"content": "entry"})
    status, answer = await start(api, int(thread["id"]), inside["id"])
    assert (status, answer["code"]) == (400, 50024)
    fake.set_bot_permissions(other, permissions.DEFAULT_BOT | permissions.SEND_MESSAGES_IN_THREADS)
    status, elsewhere = await api.send(other.id, {"content": "hi"})
    status, answer = await start(api, other.id, elsewhere["id"])
    assert (status, answer["code"]) == (403, 50013)


async def test_a_thread_without_a_message_is_private_unless_asked(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    path = f"/channels/{scene.channel.id}/threads"
    status, answer = await api.request("POST", path, json={"name": "quiet"})
    assert (status, answer["code"]) == (403, 50013), "private threads need their own permission"
    status, answer = await api.request("POST", path, json={"name": "x", "type": 10})
    assert status == 400
    assert "type" in error_paths(answer)
    status, thread = await api.request("POST", path, json={"name": "open", "type": 11})
    assert status == 201, thread
    assert thread["type"] == 11
    scene.fake.set_bot_permissions(scene.channel, BOT | permissions.CREATE_PRIVATE_THREADS)
    status, private = await api.request("POST", path, json={"name": "quiet", "invitable": False})
    assert status == 201, private
    assert (private["type"], private["thread_metadata"]["invitable"]) == (12, False)


async def test_posting_in_a_thread_needs_send_messages_in_threads(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    fake = scene.fake
    thread = fake.add_thread(scene.channel, "gallery", owner=scene.alice)
    only_threads = permissions.VIEW_CHANNEL | permissions.SEND_MESSAGES_IN_THREADS
    fake.set_bot_permissions(scene.channel, only_threads)
    status, answer = await api.send(thread.id, {"content": "entry"})
    assert status == 200, answer
    status, answer = await api.send(scene.channel.id, {"content": "card"})
    assert (status, answer["code"]) == (403, 50013)
    fake.set_bot_permissions(scene.channel, permissions.DEFAULT_BOT)
    status, answer = await api.send(thread.id, {"content": "entry"})
    assert (status, answer["code"]) == (403, 50013), "Send Messages has no effect in threads"
    fake.set_bot_permissions(scene.channel, only_threads)
    status, answer = await api.send(thread.id, {"embeds": [{"title": "t"}]})
    assert (status, answer["code"]) == (403, 50013), "no Embed Links in the parent"
    fake.revoke_channel_access(scene.channel)
    status, answer = await api.request("GET", f"/channels/{thread.id}")
    assert (status, answer["code"]) == (403, 50001), "View Channel comes from the parent"


async def test_a_thread_has_its_own_rate_limit_bucket(make_fake: MakeFake) -> None:
    scene = build_scene(await make_fake(channel_rate_limit=(2, 60.0)))
    fake = scene.fake
    fake.set_bot_permissions(scene.channel, BOT)
    thread = fake.add_thread(scene.channel, "gallery")
    fake.exhaust_rate_limit(scene.channel)
    async with aiohttp.ClientSession() as http:
        api = RawApi(fake, http)
        status, _ = await api.send(scene.channel.id, {"content": "card"})
        assert status == 429
        for _ in range(2):
            status, answer = await api.send(thread.id, {"content": "entry"})
            assert status == 200, answer
        status, _ = await api.send(thread.id, {"content": "entry"})
        assert status == 429
    assert len(fake.channel_messages(thread)) == 2


async def test_an_archived_thread_refuses_edits_and_a_new_message_unarchives_it(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    thread = fake.add_thread(scene.channel, "gallery")
    status, entry = await api.send(thread.id, {"content": "entry"})
    assert status == 200
    fake.archive_thread(thread, by=scene.alice)
    assert thread.archived
    status, answer = await api.edit(thread.id, entry["id"], {"content": "edited"})
    assert (status, answer["code"]) == (400, 50083)
    status, answer = await api.send(thread.id, {"content": "another"})
    assert status == 200, answer
    assert not thread.archived, "Sending a message will automatically unarchive the thread"
    status, answer = await api.edit(thread.id, entry["id"], {"content": "edited"})
    assert status == 200, answer
    status, fetched = await api.request("GET", f"/channels/{thread.id}")
    assert fetched["message_count"] == fetched["total_message_sent"] == 2


async def test_a_locked_thread_takes_nothing_from_a_bot_without_manage_threads(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    thread = fake.add_thread(scene.channel, "gallery")
    status, entry = await api.send(thread.id, {"content": "entry"})
    fake.archive_thread(thread, locked=True)
    status, answer = await api.send(thread.id, {"content": "another"})
    assert (status, answer["code"]) == (400, 160005)
    status, answer = await api.request("DELETE", f"/channels/{thread.id}/messages/{entry['id']}")
    assert (status, answer["code"]) == (400, 50083)
    with pytest.raises(FakeDiscordUsageError, match="locked"):
        await fake.post_user_message(thread, scene.alice, "me too")
    fake.set_bot_permissions(scene.channel, BOT | permissions.MANAGE_THREADS)
    status, answer = await api.send(thread.id, {"content": "moderated"})
    assert status == 200, answer
    assert thread.thread is not None
    assert thread.thread.locked


async def edit_thread(api: RawApi, thread: FakeChannel, **body: Any) -> tuple[int, Any]:
    return await api.request("PATCH", f"/channels/{thread.id}", json=body)


async def test_the_bot_archives_unarchives_locks_and_deletes_its_threads(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    sent = await posted(api, scene)
    _, made = await start(api, scene.channel.id, sent["id"])
    [thread] = fake.threads_of(scene.channel)
    status, answer = await edit_thread(api, thread, archived=True)
    assert status == 200, answer
    assert answer["thread_metadata"]["archived"] is True
    assert answer["thread_metadata"]["archiver_id"] == str(fake.bot_user.id)
    status, answer = await edit_thread(api, thread, name="renamed")
    assert (status, answer["code"]) == (400, 50083)
    status, answer = await edit_thread(api, thread, archived=False, name="renamed")
    assert status == 200, answer
    assert (thread.name, thread.archived) == ("renamed", False)
    status, answer = await edit_thread(api, thread, locked=True)
    assert (status, answer["code"]) == (403, 50013)
    status, answer = await api.request("DELETE", f"/channels/{thread.id}")
    assert (status, answer["code"]) == (403, 50013)
    status, answer = await edit_thread(api, thread, auto_archive_duration=45)
    assert status == 400
    fake.set_bot_permissions(scene.channel, BOT | permissions.MANAGE_THREADS)
    status, answer = await api.request("DELETE", f"/channels/{thread.id}")
    assert (status, answer["id"]) == (200, made["id"])
    status, answer = await api.request("GET", f"/channels/{thread.id}")
    assert (status, answer["code"]) == (404, 10003)
    assert fake.threads_of(scene.channel) == []
    status, answer = await api.request("PATCH", f"/channels/{scene.channel.id}", json={})
    assert status == 404, "the fake modifies threads only"


async def test_moderators_delete_threads_and_their_parents(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    first = fake.add_thread(scene.channel, "first")
    second = fake.add_thread(scene.channel, "second")
    assert fake.threads_of(scene.channel) == [first, second]
    fake.delete_thread(first)
    status, answer = await api.send(first.id, {"content": "late"})
    assert (status, answer["code"]) == (404, 10003)
    fake.delete_channel(scene.channel)
    status, answer = await api.send(second.id, {"content": "late"})
    assert (status, answer["code"]) == (404, 10003)
    with pytest.raises(FakeDiscordUsageError):
        fake.delete_thread(second)


async def test_a_private_thread_is_seen_by_its_members_only(
    threaded: tuple[RawApi, Scene],
) -> None:
    api, scene = threaded
    fake = scene.fake
    thread = fake.add_thread(
        scene.channel, "quiet", owner=scene.alice, private=True, members=[scene.alice]
    )
    status, answer = await api.request("GET", f"/channels/{thread.id}")
    assert (status, answer["code"]) == (403, 50001)
    assert scene.alice.permissions_in(thread) & permissions.VIEW_CHANNEL
    assert scene.bob.permissions_in(thread) == 0
    fake.set_bot_permissions(scene.channel, BOT | permissions.MANAGE_THREADS)
    status, answer = await api.request("GET", f"/channels/{thread.id}")
    assert status == 200, answer


async def test_commands_in_a_thread_come_from_the_thread(silent: Silent) -> None:
    scene = silent.scene
    fake = scene.fake
    fake.set_bot_permissions(scene.channel, BOT)
    thread = fake.add_thread(scene.channel, "gallery", owner=scene.alice)
    interaction = await silent.slash(thread)
    payload = interaction.payload
    assert payload["channel_id"] == str(thread.id)
    assert payload["channel"]["type"] == 11
    assert payload["channel"]["parent_id"] == str(scene.channel.id)
    assert "member" not in payload["channel"]
    assert int(payload["app_permissions"]) & permissions.SEND_MESSAGES_IN_THREADS
    status, _ = await silent.callback(interaction, {"type": 4, "data": {"content": "here"}})
    assert status == 204
    [reply] = fake.channel_messages(thread)
    assert reply.content == "here"
    fake.archive_thread(thread)
    with pytest.raises(FakeDiscordUsageError, match="archived"):
        await silent.slash(thread)
