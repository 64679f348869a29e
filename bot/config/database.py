"""DATABASE_URL: a SQLite file, or a PostgreSQL server several processes can share.

Unlike other settings, a refused value is never echoed: it may contain a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.config.rules import Refused, Rule
from bot.secret import Secret

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
ALLOWED = "sqlite:///path/to/file.sqlite3 or postgresql://user:password@host:port/database"


@dataclass(frozen=True, slots=True)
class SqliteFile:
    """`sqlite:///relative/path` or `sqlite:////absolute/path`; a relative path is from the
    working directory (`base_dir`)."""

    path: Path

    def __str__(self) -> str:
        return SQLITE_PREFIX + self.path.as_posix()

    def under(self, base_dir: Path) -> Path:
        return base_dir / self.path


@dataclass(frozen=True, slots=True)
class PostgresServer:
    dsn: Secret
    where: str
    """host:port/database, safe to show."""


def _sqlite(url: str) -> SqliteFile:
    if not url.startswith(SQLITE_PREFIX) or len(url) == len(SQLITE_PREFIX):
        raise ValueError("no path")
    return SqliteFile(Path(url[len(SQLITE_PREFIX) :]))


def _postgres(url: str) -> PostgresServer:
    """Check the parts a server needs; raises ValueError without the URL (it has a password)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("malformed") from None
    database = parts.path.lstrip("/")
    if not parts.hostname or not database or "/" in database:
        raise ValueError("missing host or database")
    return PostgresServer(dsn=Secret(url), where=f"{parts.hostname}:{port or 5432}/{database}")


def _database_url(url: str) -> SqliteFile | PostgresServer:
    scheme = url.partition(":")[0].lower()
    try:
        if scheme == "sqlite":
            return _sqlite(url)
        if scheme in POSTGRES_SCHEMES:
            return _postgres(url)
    except ValueError:
        raise Refused(f"is not a valid {scheme} URL; it must be {ALLOWED}.") from None
    shown = scheme if scheme.isalnum() and len(scheme) <= 20 else "unknown"
    raise Refused(f"uses the {shown!r} scheme, but it must be {ALLOWED}.")


DATABASE_URL_RULE = Rule(_database_url, ALLOWED)
