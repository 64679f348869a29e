"""What reached the emulator: a record per request, counts per endpoint, and waiters for
a number of arrivals."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from .contract import Endpoint


@dataclass(slots=True)
class RequestRecord:
    """One request as received; `http_status` is None until answered (and for resets)."""

    method: str
    path: str
    endpoint: Endpoint
    at: float
    request_id: str | None = None
    http_status: int | None = None
    fault: str | None = None


class Traffic:
    def __init__(self, *, record_requests: bool) -> None:
        self.record_requests = record_requests
        """Off for long runs: the counts are kept either way, the records only when on."""
        self.requests: list[RequestRecord] = []
        self.counts: Counter[Endpoint] = Counter()
        self._waiters: list[tuple[Endpoint, int, asyncio.Future[None]]] = []

    def record(self, record: RequestRecord) -> RequestRecord:
        endpoint = record.endpoint
        self.counts[endpoint] += 1
        for waiter_endpoint, count, future in self._waiters:
            if waiter_endpoint is endpoint and self.counts[endpoint] >= count and not future.done():
                future.set_result(None)
        if self.record_requests:
            self.requests.append(record)
        return record

    async def wait_for(self, endpoint: Endpoint, count: int) -> None:
        """Until `endpoint` has received `count` requests (the caller bounds the wait)."""
        if self.counts[endpoint] >= count:
            return
        waiter = (Endpoint(endpoint), count, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter[2]
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
