"""The one schema: every migration, written once and rendered for SQLite and PostgreSQL.

Each migration is a function of the `Dialect`, which names what differs between the two
databases (the id column, 64-bit integers, floats, reading a JSON value, statements only
a shared database needs). `render` gives one database's scripts, applied in order, each
in its own transaction (SQLite keeps the version in `PRAGMA user_version`, PostgreSQL in
a `schema_version` table). A database already migrated is never migrated again, so a
migration, once released, keeps meaning what it meant: change the schema by adding one.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.store.dialect import POSTGRES, SQLITE, Dialect


def _jobs(d: Dialect) -> str:
    """1: jobs."""
    return f"""
    CREATE TABLE jobs (
        id {d.id_column},
        state TEXT NOT NULL,
        is_open INTEGER NOT NULL,
        request TEXT NOT NULL,
        requester_id {d.big_int} NOT NULL,
        guild_id {d.big_int},
        channel_id {d.big_int} NOT NULL,
        upload_limit {d.big_int},
        created_at {d.real} NOT NULL,
        updated_at {d.real} NOT NULL,
        state_times TEXT NOT NULL,
        estimated_cost TEXT NOT NULL,
        request_id TEXT,
        queue_position INTEGER,
        output_url TEXT,
        cost TEXT,
        error TEXT,
        status_message_id {d.big_int},
        notice TEXT NOT NULL,
        notice_attempts INTEGER NOT NULL DEFAULT 0,
        notice_message_id {d.big_int},
        notice_error TEXT,
        deadline_at {d.real},
        not_before {d.real},
        submit_attempts INTEGER NOT NULL DEFAULT 0,
        cancelled_by {d.big_int},
        parent_id {d.big_int} REFERENCES jobs(id),
        extra TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE INDEX jobs_open ON jobs(id) WHERE is_open = 1;
    CREATE INDEX jobs_requester ON jobs(requester_id, id);
    CREATE INDEX jobs_guild ON jobs(guild_id, id);
    CREATE UNIQUE INDEX jobs_request_id ON jobs(request_id) WHERE request_id IS NOT NULL;
    """


def _server_settings(d: Dialect) -> str:
    """2: per-server settings, one row per changed setting (absent = the default applies)."""
    return f"""
    CREATE TABLE server_settings (
        guild_id {d.big_int} NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_by {d.big_int},
        updated_at {d.real} NOT NULL,
        PRIMARY KEY (guild_id, key)
    );
    CREATE INDEX jobs_created ON jobs(created_at);
    """


def _failure_codes(d: Dialect) -> str:
    """3: failures are named by a code (the `error` column) plus a detail; older rows kept
    English text there, which becomes the detail of a "legacy" failure."""
    return """
    ALTER TABLE jobs ADD COLUMN error_detail TEXT;
    UPDATE jobs SET error_detail = error, error = 'legacy' WHERE error IS NOT NULL;
    """


def _leases(d: Dialect) -> str:
    """4: which process holds an open job, and until when (database time, epoch seconds).
    Only a shared database fills them (one SQLite process holds every job), so only there
    are the open jobs' leases indexed."""
    index = "CREATE INDEX jobs_open_leases ON jobs(lease_until) WHERE is_open = 1;"
    return f"""
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until {d.real};
    {index if d.shared else ""}
    """


def _typed_attributes(d: Dialect) -> str:
    """5: a job's public language and who deleted its video, and when, get columns of their
    own; they were kept in the `extra` JSON, whence they are copied.

    `extra` is retired rather than dropped: no bot reads or writes it from now on, but in a
    deploy without downtime the processes of the previous version, still running against
    the migrated database, name it in every insert and update, which would all be refused
    without it (the jobs they create meanwhile post in the default language). A later
    migration may drop it."""

    def copied(key: str, type_: str) -> str:
        return f"{key} = {d.json_value('extra', key, type_)}"

    return f"""
    ALTER TABLE jobs ADD COLUMN locale TEXT;
    ALTER TABLE jobs ADD COLUMN deleted_by {d.big_int};
    ALTER TABLE jobs ADD COLUMN deleted_at {d.real};
    UPDATE jobs SET {copied("locale", "TEXT")}, {copied("deleted_by", d.big_int)},
        {copied("deleted_at", d.real)}
    WHERE extra <> '{{}}';
    """


def _server_policy(d: Dialect) -> str:
    """6: each server's own policy: blocked terms (`key` is the term folded, so spellings
    of one term are one row), role tiers, member blocks and strikes; a version per server
    that every change of its settings or policy raises, so other processes notice it; and
    a job's own limit of jobs at once (its requester's tier; NULL: the server's)."""
    return f"""
    CREATE TABLE blocked_terms (
        guild_id {d.big_int} NOT NULL,
        key TEXT NOT NULL,
        term TEXT NOT NULL,
        added_by {d.big_int},
        added_at {d.real} NOT NULL,
        PRIMARY KEY (guild_id, key)
    );
    CREATE TABLE role_tiers (
        guild_id {d.big_int} NOT NULL,
        role_id {d.big_int} NOT NULL,
        daily_seconds INTEGER,
        longest_seconds INTEGER NOT NULL,
        sound INTEGER NOT NULL,
        jobs_at_once INTEGER NOT NULL,
        updated_by {d.big_int},
        updated_at {d.real} NOT NULL,
        PRIMARY KEY (guild_id, role_id)
    );
    CREATE TABLE member_blocks (
        guild_id {d.big_int} NOT NULL,
        user_id {d.big_int} NOT NULL,
        until {d.real} NOT NULL,
        reason TEXT,
        blocked_by {d.big_int},
        blocked_at {d.real} NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE strikes (
        guild_id {d.big_int} NOT NULL,
        job_id {d.big_int} NOT NULL,
        user_id {d.big_int} NOT NULL,
        at {d.real} NOT NULL,
        reason TEXT,
        PRIMARY KEY (guild_id, job_id)
    );
    CREATE INDEX strikes_member ON strikes(guild_id, user_id, at);
    CREATE TABLE server_changes (
        guild_id {d.big_int} NOT NULL PRIMARY KEY,
        version INTEGER NOT NULL
    );
    ALTER TABLE jobs ADD COLUMN active_limit INTEGER;
    """


def _versions(d: Dialect) -> str:
    """7: each job row counts its writes, and every write names the count it was made
    from, so a copy read before another write landed is refused (a stale holder cannot
    reopen a job another process finished). Rows written before start at 0."""
    return "ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"


def _sessions(d: Dialect) -> str:
    """8: prompt sessions, their posted entries and their votes; a job made as an entry
    names its session. At most one session of a channel is open at a time (the index
    says so to every process). An entry's id is its job's; its row is written when its
    video is posted, and its final votes and place when voting closes."""
    return f"""
    CREATE TABLE sessions (
        id {d.id_column},
        guild_id {d.big_int} NOT NULL,
        channel_id {d.big_int} NOT NULL,
        host_id {d.big_int} NOT NULL,
        theme TEXT NOT NULL,
        locale TEXT,
        state TEXT NOT NULL,
        created_at {d.real} NOT NULL,
        entries_close_at {d.real} NOT NULL,
        vote_minutes INTEGER NOT NULL,
        entries_per_member INTEGER NOT NULL,
        budget TEXT,
        thread_id {d.big_int},
        card_message_id {d.big_int},
        entries_closed_at {d.real},
        ended_by {d.big_int},
        cancelled_by {d.big_int},
        recap_owner TEXT,
        recap_until {d.real},
        recap_channel_message_id {d.big_int},
        recap_thread_message_id {d.big_int},
        closed_at {d.real},
        version INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX sessions_open_channel ON sessions(channel_id) WHERE state = 'open';
    CREATE INDEX sessions_unfinished ON sessions(id) WHERE state IN ('open', 'voting', 'recap');
    CREATE INDEX sessions_thread ON sessions(thread_id);
    CREATE INDEX sessions_guild ON sessions(guild_id, state);
    ALTER TABLE jobs ADD COLUMN session_id {d.big_int} REFERENCES sessions(id);
    CREATE INDEX jobs_session ON jobs(session_id) WHERE session_id IS NOT NULL;
    CREATE TABLE session_entries (
        entry_id {d.big_int} PRIMARY KEY REFERENCES jobs(id),
        session_id {d.big_int} NOT NULL REFERENCES sessions(id),
        requester_id {d.big_int} NOT NULL,
        video TEXT NOT NULL,
        posted_at {d.real} NOT NULL,
        removed_by {d.big_int},
        removed_at {d.real},
        votes INTEGER,
        place INTEGER
    );
    CREATE INDEX session_entries_session ON session_entries(session_id);
    CREATE TABLE session_votes (
        entry_id {d.big_int} NOT NULL REFERENCES session_entries(entry_id),
        voter_id {d.big_int} NOT NULL,
        session_id {d.big_int} NOT NULL REFERENCES sessions(id),
        voted_at {d.real} NOT NULL,
        PRIMARY KEY (entry_id, voter_id)
    );
    CREATE INDEX session_votes_voter ON session_votes(session_id, voter_id);
    """


MIGRATIONS: tuple[Callable[[Dialect], str], ...] = (
    _jobs,
    _server_settings,
    _failure_codes,
    _leases,
    _typed_attributes,
    _server_policy,
    _versions,
    _sessions,
)
"""In order: migration N is `MIGRATIONS[N - 1]`."""


def render(dialect: Dialect) -> tuple[str, ...]:
    """Every migration's script for one database."""
    return tuple(migration(dialect) for migration in MIGRATIONS)


SQLITE_MIGRATIONS = render(SQLITE)
PG_MIGRATIONS = render(POSTGRES)
