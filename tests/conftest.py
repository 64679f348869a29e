"""Fixtures every part of the suite may use: one throwaway PostgreSQL server for the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.postgres import PostgresServer, find_bin_dir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run."""
    yield from serve_postgres()


def serve_postgres() -> Iterator[PostgresServer]:
    """A throwaway server for a fixture of any scope, stopped after it; the test is skipped
    only when initdb is not installed."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()
