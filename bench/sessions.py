"""A crowded prompt session: `python -m bench.sessions [--smoke]`.

Fifty members enter 200 videos into one session (four each), then cast 1,000 votes (20
each, never for their own entry) over five emulated minutes, and the host closes the
entries. Measured, with the bot as its own process against the fake Discord:

- vote acknowledgement: real time from the fake dispatching a press to the bot's
  callback (p50 / p99 / max), and whether every press was answered;
- what the votes cost in Discord's per-channel budget: messages and edits the bot made in
  the gallery thread while the votes came in, per vote (the counts on the buttons are
  coalesced per entry and the thread is paced, so it is far below one edit per vote);
- the recap: its winners, their votes and the entry and voter counts, against the tally
  of the plan's votes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.world import BenchWorld, open_world
from testkit.discord import FakeChannel, FakeInteraction, FakeMember, FakeMessage, permissions
from testkit.discord.invocations import OptionValue
from testkit.discord.records import RequestRecord
from testkit.process import BotProcess
from testkit.stats import Summary

RECAP = "· recap"
WINNERS = re.compile(r"Winners?(?:, tied)?: (.*)")
MENTION = re.compile(r"<@(\d+)> \((\d+) votes?\)")
NUMBERS = re.compile(r"(\d+) entries · (\d+) voters")
MANAGE = permissions.DEFAULT_MEMBER | (1 << 13) | (1 << 5)
"""Manage Messages (to host) and Manage Server (to set the votes per member)."""


@dataclass(frozen=True, slots=True)
class SessionBenchConfig:
    members: int = 50
    entries_per_member: int = 4
    votes_per_member: int = 20
    vote_window: float = 300.0
    """Emulated seconds over which the votes arrive."""
    speed: float = 20.0
    seed: int = 7


@dataclass(frozen=True, slots=True)
class SessionBenchResult:
    entries: int
    entries_posted: int
    votes: int
    answered: int
    counted: int
    ack: Summary
    """Dispatch → callback, real seconds."""
    thread_messages: int
    thread_edits: int
    card_edits: int
    recap_found: bool
    recap_correct: bool
    recap_problem: str
    errors_logged: int

    @property
    def messages_per_vote(self) -> float:
        return self.thread_messages / max(self.votes, 1)

    @property
    def edits_per_vote(self) -> float:
        return self.thread_edits / max(self.votes, 1)


SMOKE = SessionBenchConfig(
    members=6, entries_per_member=1, votes_per_member=3, vote_window=20.0, speed=40.0
)


def vote_plan(entries: dict[int, int], config: SessionBenchConfig) -> list[tuple[int, int]]:
    """(member, entry) pairs: each member votes for `votes_per_member` entries, none their
    own, in a shuffled order."""
    rng = random.Random(config.seed)
    plan: list[tuple[int, int]] = []
    for member in range(config.members):
        others = [entry for entry, owner in entries.items() if owner != member]
        plan.extend((member, entry) for entry in rng.sample(others, config.votes_per_member))
    rng.shuffle(plan)
    return plan


def check_recap(text: str, plan: list[tuple[int, int]], owners: dict[int, int]) -> str:
    """What is wrong with the recap, or "" when it says what the votes say; `owners`:
    each entry's member's user id."""
    tally = Counter(entry for _, entry in plan)
    best = max(tally.values())
    winners = {owners[entry] for entry, votes in tally.items() if votes == best}
    found = WINNERS.search(text)
    if found is None:
        return "no winners line"
    named = {int(user): int(votes) for user, votes in MENTION.findall(found[1])}
    if set(named) != winners or set(named.values()) != {best}:
        return f"winners {named} but the votes say {sorted(winners)} with {best}"
    numbers = NUMBERS.search(text)
    voters = len({member for member, _ in plan})
    if numbers is None or (int(numbers[1]), int(numbers[2])) != (len(owners), voters):
        return f"counts {numbers and numbers.groups()} but expected {len(owners)}, {voters}"
    return ""


async def run_sessions(config: SessionBenchConfig, workdir: Path) -> SessionBenchResult:
    world = await open_world(
        speed=config.speed, members=config.members, generation_time=lambda payload: 30.0
    )
    try:
        return await _run(world, config, workdir)
    finally:
        await world.close()


async def _run(world: BenchWorld, config: SessionBenchConfig, workdir: Path) -> SessionBenchResult:
    fake = world.fake
    [channel] = world.channels
    fake.set_bot_permissions(channel, permissions.DEFAULT_BOT | permissions.THREADS)
    host = fake.add_member(world.guild, "host", permissions=MANAGE)
    entries_total = config.members * config.entries_per_member
    env = world.settings(
        workdir / "bot.sqlite3",
        MAX_ACTIVE_JOBS_PER_USER=str(config.entries_per_member),
        MAX_ACTIVE_JOBS_PER_SERVER=str(min(entries_total, 1000)),
        MAX_ACTIVE_JOBS_TOTAL=str(entries_total),
        RUNCOMFY_MAX_REQUESTS_PER_SECOND="1000",
    )
    bot = await BotProcess.start(fake, env, workdir=workdir, speed=config.speed)
    try:
        await bot.wait_on_ready()
        await _command(world, host, "video", "settings votes", per_member=config.votes_per_member)
        await _command(
            world,
            host,
            "session",
            "start",
            theme="Benchmark foxes",
            minutes=1440,
            vote_minutes=1,
            entries_per_member=config.entries_per_member,
        )
        [thread] = fake.threads_of(channel)
        entries = await _enter(world, channel, thread, config)
        posted = _entries(world, thread)
        plan = vote_plan(entries, config)
        before = len(fake.requests)
        presses = await _vote(world, posted, plan, config)
        await asyncio.gather(
            *(it.wait_answer(timeout=60) for it in presses), return_exceptions=True
        )
        await _settled(world, thread, posted, plan)
        during = fake.requests[before:]
        await _command(world, host, "session", "end")
        recap = await fake.wait_for_message(
            channel, lambda m: m.is_v2 and RECAP in m.text, timeout=120
        )
        owners = {entry: world.members[member].user.id for entry, member in entries.items()}
        problem = check_recap(recap.text, plan, owners)
    finally:
        await bot.stop()
    answers = [it for it in presses if it.original is not None and it.original.content]
    return SessionBenchResult(
        entries=entries_total,
        entries_posted=len(posted),
        votes=len(plan),
        answered=len(answers),
        counted=sum(1 for it in answers if it.original and "is in" in (it.original.content or "")),
        ack=Summary.of(it.acked_after for it in presses if it.acked_after is not None),
        thread_messages=_count(during, "POST", thread),
        thread_edits=_count(during, "PATCH", thread),
        card_edits=_count(during, "PATCH", channel),
        recap_found=True,
        recap_correct=problem == "",
        recap_problem=problem,
        errors_logged=len(bot.logged_problems()),
    )


def _count(requests: list[RequestRecord], method: str, channel: FakeChannel) -> int:
    prefix = f"/channels/{channel.id}/messages"
    return sum(1 for r in requests if r.method == method and prefix in r.path)


async def _command(
    world: BenchWorld, member: FakeMember, group: str, subcommand: str, **options: OptionValue
) -> FakeMessage:
    interaction = await world.fake.invoke_slash(
        world.channels[0], member, group, subcommand=subcommand, options=options
    )
    return await interaction.wait_answer(timeout=30)


async def _enter(
    world: BenchWorld, channel: FakeChannel, thread: FakeChannel, config: SessionBenchConfig
) -> dict[int, int]:
    """Every member's entries, half typed in the channel and half in the thread; entry id →
    member index, once every entry is posted in the gallery."""
    invocations: list[tuple[int, FakeInteraction]] = []
    for round_ in range(config.entries_per_member):
        for index, member in enumerate(world.members):
            where = channel if (index + round_) % 2 else thread
            invocations.append(
                (
                    index,
                    await world.fake.invoke_slash(
                        where,
                        member,
                        "video",
                        subcommand="generate",
                        options={"prompt": f"fox {index}-{round_} in the snow", "duration": 5},
                    ),
                )
            )
    entries: dict[int, int] = {}
    for index, interaction in invocations:
        answer = await interaction.wait_answer(timeout=60)
        found = re.search(r"#(\d+)", str(answer.embeds))
        if found is None:
            raise RuntimeError(f"an entry was refused: {answer.content!r}")
        entries[int(found[1])] = index
    deadline = time.monotonic() + 600
    while len(_entries(world, thread)) < len(entries) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    return entries


def _entries(world: BenchWorld, thread: FakeChannel) -> dict[int, FakeMessage]:
    found: dict[int, FakeMessage] = {}
    for message in world.fake.channel_messages(thread, include_ephemeral=False):
        for custom_id in message.custom_ids:
            if custom_id.startswith("session:vote:"):
                found[int(custom_id.rsplit(":", 1)[1])] = message
    return found


async def _vote(
    world: BenchWorld,
    posted: dict[int, FakeMessage],
    plan: list[tuple[int, int]],
    config: SessionBenchConfig,
) -> list[FakeInteraction]:
    """The plan's presses, evenly spread over the vote window (in real time)."""
    step = config.vote_window / config.speed / max(len(plan), 1)
    start = time.monotonic()
    presses: list[FakeInteraction] = []
    for number, (member, entry) in enumerate(plan):
        delay = start + number * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        presses.append(
            await world.fake.click_button(
                posted[entry], f"session:vote:{entry}", world.members[member]
            )
        )
    return presses


async def _settled(
    world: BenchWorld,
    thread: FakeChannel,
    posted: dict[int, FakeMessage],
    plan: list[tuple[int, int]],
    within: float = 120.0,
) -> None:
    """Until every entry's button shows its final count."""
    tally = Counter(entry for _, entry in plan)

    def shown(entry: int) -> str:
        message = world.fake.message(posted[entry].id)
        button = next(b for b in message.buttons if b.get("custom_id", "").endswith(f":{entry}"))
        return str(button.get("label"))

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(shown(entry).split(" ")[0] == str(tally.get(entry, 0)) for entry in posted):
            return
        await asyncio.sleep(0.2)


def report(result: SessionBenchResult, config: SessionBenchConfig) -> str:
    ms = result.ack.scaled(1000.0)
    return "\n".join(
        [
            f"| Session: {config.members} members, {result.entries} entries, "
            f"{result.votes:,} votes over {config.vote_window / 60:g} emulated min | | |",
            "|---|---|---|",
            f"| entries posted in the gallery | {result.entries_posted} of {result.entries} | |",
            f"| vote acknowledgement p50 / p99 / max | {ms.p50:.1f} / {ms.p99:.1f} / "
            f"{ms.max:.1f} ms | p99 < 100 ms |",
            f"| presses answered (counted) | {result.answered} ({result.counted}) "
            f"of {result.votes} | all |",
            f"| gallery messages per vote | {result.messages_per_vote:.3f} | 0 |",
            f"| gallery edits per vote | {result.edits_per_vote:.3f} "
            f"({result.thread_edits} edits) | < 1 |",
            f"| card edits while voting | {result.card_edits} | |",
            f"| recap matches the votes | {'yes' if result.recap_correct else result.recap_problem}"
            " | yes |",
            f"| errors logged | {result.errors_logged} | 0 |",
        ]
    )


async def _main(smoke: bool) -> None:
    config = SMOKE if smoke else SessionBenchConfig()
    with tempfile.TemporaryDirectory() as folder:
        result = await run_sessions(config, Path(folder))
    print(report(result, config))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny session, in seconds")
    asyncio.run(_main(parser.parse_args().smoke))


if __name__ == "__main__":
    main()
