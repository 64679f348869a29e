"""Test doubles for the network: a resolver that answers from a table."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence

from aiohttp.abc import AbstractResolver, ResolveResult


class TableResolver(AbstractResolver):
    """Answers each name from a fixed table and records what it was asked.

    Unknown names fail like a real lookup, so a test can never reach the real DNS.
    """

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self._table = dict(table)
        self.asked: list[tuple[str, int]] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append((host, port))
        if host not in self._table:
            raise OSError(f"no such name in the test table: {host}")
        return [_result(host, address, port) for address in self._table[host]]

    async def close(self) -> None:
        self.closed = True


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=0)
