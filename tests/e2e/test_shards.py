"""Several bot processes as one bot: SHARD_COUNT/SHARD_IDS give each process some of the
bot's shards, and Discord sends each server's commands and button presses only to the
process of that server's shard. Without them one process runs every shard.

Each process here has its own SQLite database (sharing one store needs the job leases)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import VideoBot
from bot.sharding import ShardSet, shard_of
from testkit.discord import FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeMessage
from tests.e2e.harness import World, is_notice, job_id_of


@dataclass
class Server:
    guild: FakeGuild
    channel: FakeChannel
    member: FakeMember

    @classmethod
    def on_shard(cls, fake: FakeDiscord, shard_id: int, shard_count: int) -> Server:
        guild = fake.add_guild(f"Shard {shard_id} club", shard=(shard_id, shard_count))
        return cls(guild, fake.add_text_channel(guild, "videos"), fake.add_member(guild, "member"))


async def generate_and_deliver(
    world: World, server: Server, prompt: str
) -> tuple[int, FakeMessage]:
    """`/video generate` in the server; the job id and its delivered video message."""
    interaction = await world.fake.invoke_slash(
        server.channel, server.member, "video", subcommand="generate", options={"prompt": prompt}
    )
    reply = await interaction.wait_answer(timeout=10)
    job_id = job_id_of(reply)
    assert job_id is not None, f"no job in the reply: {reply.content!r}"
    notice = await world.fake.wait_for_message(
        server.channel, lambda m: is_notice(m, job_id), timeout=15
    )
    return job_id, notice


async def jobs_of(bot: VideoBot, server: Server) -> list[str]:
    return [job.request.prompt for job in await bot.tracker.recent(guild_id=server.guild.id)]


async def test_each_server_is_served_by_the_process_of_its_shard(make_world) -> None:
    world = await make_world(start=False)
    servers = [Server.on_shard(world.fake, shard_id, 2) for shard_id in (0, 1)]
    bots = [
        await world.start_another_bot(
            SHARD_COUNT="2",
            SHARD_IDS=str(shard_id),
            DATABASE_URL=f"sqlite:///shard{shard_id}/bot.sqlite3",
        )
        for shard_id in (0, 1)
    ]
    assert sorted(s.shard for s in world.fake.sessions if s.shard) == [[0, 2], [1, 2]]
    assert [bot.shard_set for bot in bots] == [ShardSet.of(2, [0]), ShardSet.of(2, [1])]
    assert [bot.owns_guild(servers[0].guild.id) for bot in bots] == [True, False]
    assert [bot.owns_guild(servers[1].guild.id) for bot in bots] == [False, True]
    assert len(world.fake.command_syncs) == 1, "only the process running shard 0 syncs"
    for bot, server, other in ((bots[0], *servers), (bots[1], *reversed(servers))):
        guild_ids = {guild.id for guild in bot.guilds}
        assert server.guild.id in guild_ids
        assert other.guild.id not in guild_ids
        assert all(shard_of(g, 2) == bot.shard_ids[0] for g in guild_ids)

    for index, server in enumerate(servers):
        job_id, notice = await generate_and_deliver(world, server, f"a fox on shard {index}")
        assert server.member.mention in notice.text
        reroll = await world.fake.click_button(notice, f"video:reroll:{job_id}", server.member)
        new_id = job_id_of(await reroll.wait_answer(timeout=10))
        assert new_id is not None
        assert new_id != job_id
        await world.fake.wait_for_message(
            server.channel, lambda m, new_id=new_id: is_notice(m, new_id), timeout=15
        )

    for index, (owner, bystander) in enumerate(((bots[0], bots[1]), (bots[1], bots[0]))):
        server = servers[index]
        assert await jobs_of(owner, server) == [f"a fox on shard {index}"] * 2
        assert await jobs_of(bystander, server) == [], "the other process never saw it"
    assert world.emulator.submit_count == 4
    for server in servers:
        notices = [m for m in world.fake.channel_messages(server.channel) if m.attachments]
        assert len(notices) == 2, "each video posted once"


async def test_one_process_without_shard_settings_runs_every_shard(make_world) -> None:
    world = await make_world(start=False, fake_options={"recommended_shards": 2})
    servers = [Server.on_shard(world.fake, shard_id, 2) for shard_id in (0, 1)]
    unstarted = VideoBot(world.settings())
    assert (unstarted.shard_set, unstarted.syncs_commands) == (None, True)
    assert unstarted.owns_guild(servers[1].guild.id), "every shard, count not yet known"
    bot = await world.start_bot()
    assert bot.shard_set == ShardSet.of(2)
    assert all(bot.owns_guild(server.guild.id) for server in servers)
    assert sorted(s.shard for s in world.fake.sessions if s.shard) == [[0, 2], [1, 2]]
    assert {server.guild.id for server in servers} <= {guild.id for guild in bot.guilds}
    assert len(world.fake.command_syncs) == 1
    for index, server in enumerate(servers):
        await generate_and_deliver(world, server, f"a fox on shard {index}")
        assert await jobs_of(bot, server) == [f"a fox on shard {index}"]
