"""Starting, watching and stopping the bot process from the benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit import procstats
from testkit.bot_process import ON_READY, READY
from testkit.discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
_PROBLEM = re.compile(r'\[(ERROR|CRITICAL)\s*\]|"level": "(ERROR|CRITICAL)"')
"""An ERROR or CRITICAL line, in the text format or LOG_FORMAT=json."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""discord.py colours its log lines when it believes it runs in a container."""
_OWN_SETTINGS = (
    "DISCORD_",
    "RUNCOMFY_",
    "MAX_",
    "POLL_",
    "JOB_",
    "DATABASE_",
    "PRICE_",
    "LOG_",
    "STOP_",
    "HEALTH_",
    "SHARD_",
)


class BotProcessError(RuntimeError):
    """The bot process exited or never became ready; the message quotes its log."""


@dataclass
class BotProcess:
    """The bot running as a child process, with its start-up timings and /proc stats."""

    process: asyncio.subprocess.Process
    log_path: Path
    spawned_at: float
    """`time.monotonic()` just before the process was started."""
    ready_at: float = 0.0
    on_ready_at: float | None = None
    ready_facts: dict[str, Any] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None
    _on_ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def startup_seconds(self) -> float:
        """Process start to logged in, commands synced and jobs reloaded (real seconds)."""
        return self.ready_at - self.spawned_at

    @classmethod
    async def start(
        cls,
        fake: FakeDiscord,
        settings: Mapping[str, str],
        *,
        workdir: Path,
        speed: float,
        guild_ready_timeout: float | None = None,
        within: float = 60.0,
        module: str = "testkit.bot_process",
        clock_origin: float | None = None,
    ) -> BotProcess:
        """Start the bot with these settings (env vars) and wait for its ready line;
        `module` is the entry point (one that wraps `testkit.bot_process`, say). Bots
        given one `clock_origin` read one time on their scaled clocks (see `ScaledClock`)."""
        bot = await cls.spawn(
            fake,
            settings,
            workdir=workdir,
            speed=speed,
            guild_ready_timeout=guild_ready_timeout,
            module=module,
            clock_origin=clock_origin,
        )
        try:
            await asyncio.wait_for(bot._wait_ready(), within)
        except (TimeoutError, BotProcessError) as error:
            await bot.stop()
            raise BotProcessError(
                f"the bot did not become ready: {error!r}\n{bot.log_tail()}"
            ) from error
        bot._reader = asyncio.create_task(bot._read_rest(), name=f"bot-{bot.pid}-stdout")
        return bot

    @classmethod
    async def spawn(
        cls,
        fake: FakeDiscord,
        settings: Mapping[str, str],
        *,
        workdir: Path,
        speed: float,
        guild_ready_timeout: float | None = None,
        module: str = "testkit.bot_process",
        clock_origin: float | None = None,
    ) -> BotProcess:
        """Start the bot process and return at once (`start` waits for it to be ready)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
        env.update(settings)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        args = [
            "--api-base",
            fake.api_base,
            "--gateway-url",
            fake.gateway_url,
            "--cdn-base",
            fake.cdn_base,
            "--speed",
            str(speed),
        ]
        if guild_ready_timeout is not None:
            args += ["--guild-ready-timeout", str(guild_ready_timeout)]
        if clock_origin is not None:
            args += ["--clock-origin", repr(clock_origin)]
        log_path = workdir / "bot.log"
        with log_path.open("ab") as log:
            spawned_at = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                *args,
                cwd=workdir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        return cls(process=process, log_path=log_path, spawned_at=spawned_at)

    async def _wait_ready(self) -> None:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise BotProcessError(f"exited with {await self.process.wait()}")
            tag, _, facts = line.decode().strip().partition(" ")
            if tag == READY:
                self.ready_at = time.monotonic()
                self.ready_facts = json.loads(facts)
                return

    async def _read_rest(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            if line.decode().startswith(ON_READY):
                self.on_ready_at = time.monotonic()
                self._on_ready.set()

    async def wait_on_ready(self, within: float = 30.0) -> float:
        """Real seconds from process start to discord.py's on_ready."""
        await asyncio.wait_for(self._on_ready.wait(), within)
        assert self.on_ready_at is not None
        return self.on_ready_at - self.spawned_at

    def memory(self) -> procstats.Memory:
        return procstats.memory(self.pid)

    def cpu_seconds(self) -> float:
        return procstats.cpu_seconds(self.pid)

    def reset_peak(self) -> bool:
        return procstats.reset_peak(self.pid)

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal (SIGTERM, SIGINT: the bot stops cleanly; a second cuts its grace)."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    async def wait_exit(self, within: float = 30.0) -> int:
        """The exit code, once the process has ended by itself."""
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM (the bot closes cleanly), then SIGKILL if it does not exit in time."""
        if self.process.returncode is None:
            self.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        assert self.process.returncode is not None
        return self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def logged_problems(self) -> list[str]:
        """ERROR and CRITICAL lines in the bot's log (the benchmarks should cause none)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        plain = (ANSI.sub("", line) for line in text.splitlines())
        return [line for line in plain if _PROBLEM.search(line)]
