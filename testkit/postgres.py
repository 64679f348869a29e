"""A throwaway PostgreSQL server for the store tests: initdb into a temporary folder, then
`pg_ctl start` on a free port of 127.0.0.1, run as an unprivileged user when we are root
(PostgreSQL refuses to run as root). Trust authentication: it only listens locally.

Only a missing `initdb` means "no server here"; any failure once the binaries are found
is raised, so a machine that should run the PostgreSQL tests never skips them quietly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """Where `initdb` and `pg_ctl` are: on PATH, or Debian's /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as() -> pwd.struct_passwd | None:
    """The account to run the server as: none needed unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, but there is no 'postgres' or 'nobody' account")


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self._bin_dir = bin_dir
        self._user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="kling-pg-"))
        self.port = _free_port()
        self._data = self.root / "data"
        self._log = self.root / "server.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run(
            "initdb", "-D", str(self._data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self._start_server()

    def _start_server(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self._data), "-l", str(self._log), "-o", options, "-w", "start"
        )

    def restart(self) -> None:
        """Stop the server as an operator's fast restart does (every session ended, open
        transactions rolled back), and start it again on the same port (its log kept)."""
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")
        self._start_server()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin_dir / program), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user.pw_name, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            log = self._log.read_text(errors="replace") if self._log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}"
            )


async def fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    """One query on a connection of its own (for reading what the bot wrote)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def create_database(server: PostgresServer, name: str) -> str:
    """A new, empty database on the server; its DSN."""
    await fetch(server.dsn(), f"CREATE DATABASE {name}")
    return server.dsn(name)
