"""The doctor's checks that need no Discord: RunComfy's answer to the token, the database
and its migration, the video folder's disk, and the health port."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

from bot.clock import system_clock
from bot.config import Settings
from bot.doctor.findings import Finding
from bot.formatting import megabytes
from bot.media.safe_session import make_session
from bot.network import cause_of, host_of, unreachable
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.errors import ErrorKind, RunComfyError, TransportError
from bot.runcomfy.retry import RetryPolicy
from bot.server_settings import Setting
from bot.store.postgres import PgDatabase
from bot.store.schema import PG_MIGRATIONS, SQLITE_MIGRATIONS
from bot.store.settings_rows import ServerSettingsStore
from bot.store.sqlite import Database
from bot.wording import runcomfy_problem

MIB = 1024 * 1024
TOKEN_PROBE = "doctor-token-check"
"""A request id that cannot exist: asking its status costs nothing, and only a refused
token answers it with 401/403."""
Channels = Mapping[int, frozenset[int]]
"""Per server, the channels `/video settings channels` allows (servers without a list are
left out)."""


async def runcomfy_token(settings: Settings) -> Finding:
    runcomfy = settings.runcomfy
    host = host_of(runcomfy.api_base)
    async with make_session(trusted_origins=[runcomfy.api_base]) as session:
        client = RunComfyClient(
            session,
            base_url=runcomfy.api_base,
            token=runcomfy.api_token,
            clock=system_clock(),
            connect_timeout=runcomfy.connect_timeout,
            read_timeout=runcomfy.read_timeout,
            retry=RetryPolicy(max_attempts=1),
        )
        try:
            await client.status(TOKEN_PROBE)
        except TransportError as error:
            line = unreachable("RunComfy", host, error.cause, setting="RUNCOMFY_API_BASE")
            return Finding.failed(f"RunComfy at {host} did not answer", line)
        except RunComfyError as error:
            if error.kind is ErrorKind.AUTHENTICATION:
                return Finding.failed(
                    f"RunComfy at {host} refuses RUNCOMFY_API_TOKEN",
                    "copy the API token again from RunComfy (Profile → API token) into .env",
                )
            if error.kind is not ErrorKind.NOT_FOUND:
                return Finding.failed(
                    f"RunComfy at {host} answered the token check with an error",
                    f"{runcomfy_problem(error.kind)} Try again later.",
                )
    return Finding.passed(f"RunComfy at {host} accepts RUNCOMFY_API_TOKEN")


async def database(settings: Settings) -> tuple[Finding, Channels | None]:
    """Reachable and at this bot's migration; then the servers' allowed channels (None
    when they cannot be read)."""
    if settings.postgres is not None:
        return await _postgres(settings)
    return await _sqlite(settings.database_path)


async def _sqlite(path: Path) -> tuple[Finding, Channels | None]:
    current = len(SQLITE_MIGRATIONS)
    if not await asyncio.to_thread(path.exists):
        problem = await asyncio.to_thread(lambda: _unwritable(_existing_parent(path)))
        if problem is not None:
            return Finding.failed(
                f"SQLite: no database yet at {path}, and its folder cannot be written ({problem})",
                "fix DATABASE_URL or the folder's permissions",
            ), None
        return Finding.failed(
            f"SQLite: no database yet at {path}",
            "start the bot once: it creates the database and its tables",
        ), None
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="doctor-sqlite")

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    loop = asyncio.get_running_loop()
    try:
        conn = await loop.run_in_executor(executor, connect)
        version = await loop.run_in_executor(
            executor, lambda: conn.execute("PRAGMA user_version").fetchone()[0]
        )
    except sqlite3.Error as error:
        executor.shutdown(wait=False)
        return Finding.failed(f"SQLite: {path} cannot be read ({error})", _FIX_SQLITE), None
    db = Database(conn, executor)
    try:
        return await _at_migration(f"SQLite at {path}", version, current, db)
    finally:
        await db.close()


_FIX_SQLITE = "check DATABASE_URL and the file's permissions"


async def _postgres(settings: Settings) -> tuple[Finding, Channels | None]:
    postgres = settings.postgres
    assert postgres is not None
    where = f"PostgreSQL at {postgres.where}"
    try:
        pool = await asyncpg.create_pool(postgres.dsn.reveal(), min_size=1, max_size=1, timeout=10)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        return Finding.failed(
            f"{where} refuses the user or the password",
            "check them in DATABASE_URL (createuser, ALTER ROLE … PASSWORD; "
            "see docs/operations.md)",
        ), None
    except asyncpg.InvalidCatalogNameError:
        return Finding.failed(
            f"{where}: the database does not exist",
            "create it: createdb --owner=<the user> <database> (see docs/operations.md)",
        ), None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        host = postgres.where.split("/", 1)[0]
        line = unreachable("PostgreSQL", host, cause_of(error), setting="DATABASE_URL")
        return Finding.failed(f"{where} did not answer", line), None
    db = PgDatabase(pool, postgres.dsn.reveal())
    try:

        async def version_of(conn: Any) -> int:
            if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
                return 0
            found: int = await conn.fetchval("SELECT version FROM schema_version")
            return found

        return await _at_migration(where, await db.run(version_of), len(PG_MIGRATIONS), db)
    finally:
        await db.close()


async def _at_migration(
    where: str, version: int, current: int, db: Database | PgDatabase
) -> tuple[Finding, Channels | None]:
    if version > current:
        return Finding.failed(
            f"{where} is at migration {version}, newer than this bot ({current})",
            "upgrade the bot (every process)",
        ), None
    if version < current:
        return Finding.failed(
            f"{where} is at migration {version} of {current}",
            "start the bot once: it upgrades the database at start-up",
        ), None
    stored = await ServerSettingsStore(db).load_all()
    channels = {
        guild_id: frozenset(values[Setting.CHANNELS])
        for guild_id, values in stored.items()
        if values.get(Setting.CHANNELS)
    }
    return Finding.passed(f"{where} answers and is at the current migration ({current})"), channels


def video_folder(settings: Settings) -> Finding:
    """The kept videos' folder (and the downloads beside it) can be written, with room
    for the cache to fill to VIDEO_CACHE_MB and for the downloads under way."""
    folder = settings.video_cache_folder
    existing = _existing_parent(folder)
    problem = _unwritable(existing)
    if problem is not None:
        return Finding.failed(
            f"the video folder {folder} cannot be written ({problem})",
            "give the bot's user write access, or move DATABASE_URL's folder",
        )
    kept = _size_of(folder) if folder.is_dir() else 0
    media = settings.media
    downloads = settings.jobs.max_download_bytes * (media.fit_max_parallel + 1)
    needed = max(0, media.video_cache_bytes - kept) + downloads
    free = shutil.disk_usage(existing).free
    room = f"{megabytes(free)} free, {megabytes(needed)} needed"
    if free < needed:
        return Finding.failed(
            f"the video folder {folder} is short of disk: {room}",
            "free disk space, or lower VIDEO_CACHE_MB",
        )
    return Finding.passed(f"the video folder {folder} can be written ({room})")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be written in `folder`, tried with a real file (permission bits lie
    to root); None when it can."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".kling-doctor-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return error.strerror or str(error)
    return None


def _size_of(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())


def health_port(settings: Settings) -> Finding:
    health = settings.health
    if health is None:
        return Finding.passed("health port: none asked for (HEALTH_PORT is empty)")
    if health.port == 0:
        return Finding.passed("health port: any free one (HEALTH_PORT=0; the bot logs it)")
    where = f"{health.host}:{health.port}"
    try:
        infos = socket.getaddrinfo(health.host, health.port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        what = f"health port {where} cannot be had ({error.strerror or error})"
        return Finding.failed(what, _port_todo(error))
    return Finding.passed(f"health port {where} is free")


def _port_todo(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            "another process listens there (the bot already running? `ss -ltnp`); "
            "stop it or pick another HEALTH_PORT"
        )
    if error.errno == errno.EACCES:
        return "ports below 1024 need privileges: pick a HEALTH_PORT above 1023"
    return "check HEALTH_HOST (an address of this machine) and HEALTH_PORT"
