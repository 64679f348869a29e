"""Channel history as Discord documents it: at most `limit` (1–100, default 50) messages,
newest first; `before` gives the newest older than it, `after` the oldest newer than it,
`around` those around it, and only one of the three at a time."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from .conftest import Scene, StartBot
from .raw_api import RawApi

POSTED = 130


async def seed(scene: Scene, count: int = POSTED) -> list[int]:
    """`count` members' messages saying 0, 1, 2, …; their ids, oldest first."""
    return [
        (await scene.fake.post_user_message(scene.channel, scene.alice, str(n))).id
        for n in range(count)
    ]


async def read(api: RawApi, scene: Scene, query: str) -> tuple[int, Any]:
    return await api.request("GET", f"/channels/{scene.channel.id}/messages?{query}")


def said(answer: list[dict[str, Any]]) -> list[int]:
    return [int(message["content"]) for message in answer]


async def test_without_an_anchor_the_newest_come_first(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    await seed(scene)
    status, answer = await read(api, scene, "")
    assert status == 200
    assert said(answer) == list(range(POSTED - 1, POSTED - 51, -1)), "50 by default"
    _, answer = await read(api, scene, "limit=3")
    assert said(answer) == [129, 128, 127]


async def test_before_gives_the_newest_older_messages(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    ids = await seed(scene)
    _, answer = await read(api, scene, f"before={ids[10]}&limit=4")
    assert said(answer) == [9, 8, 7, 6]
    _, answer = await read(api, scene, f"before={ids[2]}&limit=100")
    assert said(answer) == [1, 0]


async def test_after_gives_the_oldest_newer_messages_newest_first(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    ids = await seed(scene)
    _, answer = await read(api, scene, f"after={ids[10]}&limit=4")
    assert said(answer) == [14, 13, 12, 11]
    _, answer = await read(api, scene, f"after={ids[0]}&limit=100")
    assert said(answer) == list(range(100, 0, -1)), "the 100 oldest after it, not the newest"


async def test_around_includes_the_message(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    ids = await seed(scene)
    _, answer = await read(api, scene, f"around={ids[50]}&limit=5")
    assert said(answer) == [52, 51, 50, 49, 48]


@pytest.mark.parametrize(
    "query", ["before={a}&after={b}", "around={a}&before={b}", "around={a}&after={b}"]
)
async def test_two_anchors_are_refused(raw: tuple[RawApi, Scene], query: str) -> None:
    """Discord documents them as mutually exclusive (and answers by one, ignoring the
    others); the fake refuses, so no client comes to rely on either."""
    api, scene = raw
    ids = await seed(scene, 5)
    status, answer = await read(api, scene, query.format(a=ids[3], b=ids[1]))
    assert (status, answer["code"]) == (400, 50035), answer


@pytest.mark.parametrize("limit", [0, 101])
async def test_limit_is_1_to_100(raw: tuple[RawApi, Scene], limit: int) -> None:
    api, scene = raw
    status, answer = await read(api, scene, f"limit={limit}")
    assert (status, answer["code"]) == (400, 50035), answer


async def test_discord_py_pages_both_ways(scene: Scene, start_bot: StartBot) -> None:
    bot = await start_bot(scene.fake)
    ids = await seed(scene, 250)
    channel = bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    since = discord.Object(ids[20])
    newest_first = [
        int(m.content) async for m in channel.history(after=since, limit=500, oldest_first=False)
    ]
    assert newest_first == list(range(249, 20, -1)), "down to the anchor, across pages"
    oldest_first = [int(m.content) async for m in channel.history(after=since, limit=150)]
    assert oldest_first == list(range(21, 171))
    before = [int(m.content) async for m in channel.history(before=discord.Object(ids[200]))]
    assert before == list(range(199, 99, -1)), "100 by default in discord.py"
