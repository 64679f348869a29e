"""The emulator's HTTP side: submit, status, result, cancel and the video files, each
request recorded, faulted when a fault is queued, and authorised by the bearer token."""

from __future__ import annotations

import contextlib
import secrets
import socket
import struct
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .contract import COMPLETED, FAILED, IN_PROGRESS, IN_QUEUE, MODEL_ID, SUBMIT_PATH, Endpoint
from .faults import Fault
from .inputs import validate_inputs
from .jobs import EmulatedJob
from .traffic import RequestRecord
from .video import RangeNotSatisfiable, parse_range

if TYPE_CHECKING:
    from .emulator import RunComfyEmulator


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _reset_connection(request: web.Request) -> None:
    """A TCP RST instead of an answer (SO_LINGER 0, then abort)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _fault_answer(fault: Fault) -> web.Response:
    if fault.kind == "rate_limit":
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return web.json_response(
            {"error_code": 429001, "error_message": "Too many requests, slow down."},
            status=429,
            headers=headers,
        )
    if fault.kind == "stale":
        return web.json_response({"status": IN_PROGRESS})
    if fault.kind == "non_json":
        return web.Response(
            status=fault.http_status,
            text="<html><body><h1>Bad gateway</h1>upstream hiccup</body></html>",
            content_type="text/html",
        )
    body: dict[str, Any] = {"error_message": fault.message}
    if fault.error_code is not None:
        body["error_code"] = fault.error_code
    return web.json_response(body, status=fault.http_status)


REQUEST_TIME = web.RequestKey("runcomfy_request_time", float)
"""Where a request keeps the emulator's time it was recorded at: it is answered as of then."""


class ApiRoutes:
    """The aiohttp handlers over one emulator's jobs, faults and traffic."""

    def __init__(self, emulator: RunComfyEmulator) -> None:
        self.emulator = emulator
        self.board = emulator.board

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(SUBMIT_PATH, self._submit)
        app.router.add_get("/v1/requests/{request_id}/status", self._status)
        app.router.add_get("/v1/requests/{request_id}/result", self._result)
        app.router.add_post("/v1/requests/{request_id}/cancel", self._cancel)
        app.router.add_get("/files/{request_id}.mp4", self._file)
        return app

    def _record(self, request: web.Request, endpoint: Endpoint) -> RequestRecord:
        return self.emulator.traffic.record(
            RequestRecord(
                method=request.method,
                path=request.path,
                endpoint=endpoint,
                at=self.emulator.clock.now(),
                request_id=request.match_info.get("request_id"),
            )
        )

    async def _serve(
        self,
        request: web.Request,
        endpoint: Endpoint,
        process: Callable[[], Awaitable[web.Response]],
    ) -> web.StreamResponse:
        """Record, apply the next fault, check auth, run `process`; the one path for all APIs."""
        record = self._record(request, endpoint)
        request[REQUEST_TIME] = record.at
        fault = self.emulator.next_fault(endpoint)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "reset" and not fault.after_processing:
            _reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind not in ("reset", "slow"):
            response = _fault_answer(fault)
        elif endpoint is not Endpoint.FILE and not self._authorized(request):
            response = web.json_response(
                {"error_code": 401001, "error_message": "Unauthorized: invalid or missing token."},
                status=401,
            )
        else:
            response = await process()
        if fault is not None and fault.kind == "reset":
            _reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind == "slow":
            await self.emulator.wait_real(fault.seconds)
        record.http_status = response.status
        return response

    def _authorized(self, request: web.Request) -> bool:
        expected = f"Bearer {self.emulator.token}"
        return secrets.compare_digest(request.headers.get("Authorization", ""), expected)

    def _job_or_404(self, request: web.Request) -> EmulatedJob | web.Response:
        request_id = request.match_info["request_id"]
        job = self.board.jobs.get(request_id)
        if job is None or self.emulator.is_expired(request_id):
            return web.json_response(
                {"error_code": 404001, "error_message": "Request not found or expired."},
                status=404,
            )
        self.board.advance(request.get(REQUEST_TIME))
        return job

    def _links(self, job: EmulatedJob) -> dict[str, str]:
        base = f"{self.emulator.base_url}/v1/requests/{job.request_id}"
        return {
            "status_url": f"{base}/status",
            "result_url": f"{base}/result",
            "cancel_url": f"{base}/cancel",
        }

    def _status_body(self, job: EmulatedJob) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": job.request_id, "status": job.status}
        if job.status == IN_QUEUE:
            body["queue_position"] = self.board.jobs_ahead(job)
        links = self._links(job)
        body["status_url"] = links["status_url"]
        body["result_url"] = links["result_url"]
        return body

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            try:
                payload = await request.json()
            except ValueError:
                payload = None
            problems = validate_inputs(payload)
            if problems:
                return web.json_response(
                    {"error_code": 422001, "error_message": "Validation error", "detail": problems},
                    status=422,
                )
            job = self.board.create(payload)
            return web.json_response({"request_id": job.request_id, **self._links(job)})

        return await self._serve(request, Endpoint.SUBMIT, process)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            return web.json_response(self._status_body(job))

        return await self._serve(request, Endpoint.STATUS, process)

    async def _result(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            if job.status in (IN_QUEUE, IN_PROGRESS):
                return web.json_response(self._status_body(job))
            body: dict[str, Any] = {
                "request_id": job.request_id,
                "status": job.status,
                "output": {"video": self.emulator.output_url(job.request_id)}
                if job.status == COMPLETED
                else None,
                "created_at": _iso(job.submitted_at),
                "finished_at": _iso(job.finished_at),
                "error": job.outcome.error if job.status == FAILED else None,
            }
            if request.query.get("include_cost", "").lower() in ("true", "1", "yes"):
                body["cost"] = float(job.cost) if job.status == COMPLETED else 0.0
                body["model_id"] = MODEL_ID
            return web.json_response(body)

        return await self._serve(request, Endpoint.RESULT, process)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            outcome = self.board.cancel(job)
            return web.json_response({"status": job.status, "outcome": outcome})

        return await self._serve(request, Endpoint.CANCEL, process)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        record = self._record(request, Endpoint.FILE)
        fault = self.emulator.next_fault(Endpoint.FILE)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "reset" and not fault.after_processing:
            _reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind not in ("reset", "slow"):
            answer = _fault_answer(fault)
            record.http_status = answer.status
            return answer
        if fault is not None and fault.kind == "slow":
            await self.emulator.wait_real(fault.seconds)
        self.board.advance()
        job = self.board.jobs.get(request.match_info["request_id"])
        if job is None or job.status != COMPLETED:
            record.http_status = 404
            return web.Response(status=404, text="Not found")
        video = self.emulator.video_for(job)
        try:
            span = parse_range(request.headers.get("Range"), video.size)
        except RangeNotSatisfiable:
            record.http_status = 416
            return web.Response(status=416, headers={"Content-Range": f"bytes */{video.size}"})
        start, stop = span if span is not None else (0, video.size)
        response = web.StreamResponse(status=206 if span is not None else 200)
        response.content_type = "video/mp4"
        response.content_length = stop - start
        response.headers["Accept-Ranges"] = "bytes"
        if span is not None:
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{video.size}"
        record.http_status = response.status
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        cut = start + (stop - start) // 2 if fault is not None and fault.kind == "reset" else stop
        for chunk in video.chunks(start, cut):
            await response.write(chunk)
        if cut < stop:
            _reset_connection(request)
            return response
        await response.write_eof()
        return response
