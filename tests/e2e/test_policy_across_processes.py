"""Two bot processes on one PostgreSQL database (each running one of two shards): a block,
a blocked term, a role tier or a strike setting given in one applies in the other within a
second, told over NOTIFY; and one that missed the message catches up by the versions."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import VideoBot
from bot.policy.tiers import RoleTier
from testkit.discord import FakeMember
from testkit.postgres import PostgresServer, create_database
from testkit.waiting import eventually
from tests.e2e.harness import World

WITHIN = 1.0
"""Real seconds a change may take to reach the other process."""


async def two_bots(
    make_world, postgres_server: PostgresServer, name: str
) -> tuple[World, VideoBot, VideoBot]:
    """A world whose guild's commands reach `owner`; `other` shares its database."""
    dsn = await create_database(postgres_server, name)
    world: World = await make_world(start=False, env={"DATABASE_URL": dsn})
    bots = [
        await world.start_another_bot(SHARD_COUNT="2", SHARD_IDS=str(shard)) for shard in (0, 1)
    ]
    owner = next(bot for bot in bots if bot.owns_guild(world.guild.id))
    other = next(bot for bot in bots if bot is not owner)
    return world, owner, other


async def command(world: World, subcommand: str, by: FakeMember, **options: object) -> None:
    interaction = await world.fake.invoke_slash(
        world.channel, by, "video", subcommand=subcommand, options=options
    )
    answer = await world.answer(interaction)
    assert answer.content.startswith("✅") or answer.embeds, answer.content


async def reaches(condition: Callable[[], bool], what: str) -> None:
    await eventually(condition, within=WITHIN, what=what)


async def test_a_change_in_one_process_applies_in_the_other_within_a_second(
    make_world, postgres_server: PostgresServer
) -> None:
    world, owner, other = await two_bots(make_world, postgres_server, "policy_spread")
    guild = world.guild.id
    role = world.fake.add_role(world.guild, "Supporters")

    await command(world, "block", world.mod_by_role, member=world.alice, days=1)
    assert owner.policy.get(guild).block_of(world.alice.id, owner.clock.now()) is not None
    await reaches(
        lambda: other.policy.get(guild).block_of(world.alice.id, other.clock.now()) is not None,
        "the block in the other process",
    )
    await command(world, "settings blocked", world.admin, action="add", term="nude")
    await reaches(
        lambda: other.policy.get(guild).terms.find(["a NÜDE statue"]) is not None,
        "the term in the other process",
    )
    await command(world, "settings tier", world.admin, action="set", role=role, longest=5)
    await reaches(lambda: role.id in other.policy.get(guild).tiers, "the tier")
    await command(world, "settings strikes", world.admin, count=7)
    await reaches(
        lambda: other.server_settings.get(guild).strikes_to_block == 7,
        "the strike setting in the other process",
    )
    await command(world, "unblock", world.mod_by_role, member=world.alice)
    await reaches(
        lambda: other.policy.get(guild).block_of(world.alice.id, other.clock.now()) is None,
        "the lifted block in the other process",
    )


async def test_a_process_that_missed_the_message_catches_up(
    make_world, postgres_server: PostgresServer
) -> None:
    world, owner, other = await two_bots(make_world, postgres_server, "policy_catch_up")
    guild = world.guild.id
    await other.storage.news.close()
    await owner.policy.set_tier(guild, RoleTier(5, 60, 5, False, 1), by=1)
    assert other.policy.get(guild).tiers == {}
    assert await other.policy.refresh() == [guild]
    assert other.policy.get(guild).tiers == {5: RoleTier(5, 60, 5, False, 1)}
