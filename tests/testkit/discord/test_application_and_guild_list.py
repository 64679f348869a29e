"""What a set-up check reads: the application's flags (its privileged intents) and the
bot's list of guilds, paged as Discord pages it."""

from __future__ import annotations

from .conftest import Scene
from .raw_api import RawApi
from .sample_bot import SampleBot

MESSAGE_CONTENT_LIMITED = 1 << 19


async def test_the_application_reports_the_flags_the_portal_set(
    scene: Scene, bot: SampleBot
) -> None:
    app = await bot.application_info()
    assert app.flags.gateway_message_content_limited
    assert not app.flags.gateway_message_content
    scene.fake.set_application_flags(0)
    app = await bot.application_info()
    assert app.flags.value == 0
    assert not app.flags.gateway_message_content_limited


async def test_the_bot_lists_the_guilds_it_is_in(scene: Scene, bot: SampleBot) -> None:
    second = scene.fake.add_guild("Second")
    gone = scene.fake.add_guild("Gone")
    scene.fake.remove_bot_from_guild(gone)
    guilds = [guild async for guild in bot.fetch_guilds(limit=None)]
    assert [guild.id for guild in guilds] == sorted([scene.guild.id, second.id])
    assert guilds[0].name == "Test Guild"


async def test_the_guild_list_pages_by_id(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    others = [scene.fake.add_guild(f"Guild {n}") for n in range(3)]
    ids = sorted([scene.guild.id, *(guild.id for guild in others)])
    status, first = await api.request("GET", "/users/@me/guilds?limit=2")
    assert status == 200
    assert [int(guild["id"]) for guild in first] == ids[:2]
    assert first[0]["permissions"] == "0", "the bot's own: @everyone's, it has no role"
    status, rest = await api.request("GET", f"/users/@me/guilds?after={first[-1]['id']}")
    assert [int(guild["id"]) for guild in rest] == ids[2:]
    status, before = await api.request("GET", f"/users/@me/guilds?before={ids[2]}&limit=1")
    assert [int(guild["id"]) for guild in before] == [ids[1]]
    status, body = await api.request("GET", "/users/@me/guilds?limit=201")
    assert status == 400
    assert body["code"] == 50035
