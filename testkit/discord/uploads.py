"""Reading request bodies: JSON, or multipart ``payload_json`` + ``files[n]`` streamed to disk."""

from __future__ import annotations

import json
import mimetypes
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from aiohttp import BodyPartReader, web

from . import errors

FILE_FIELD = re.compile(r"files\[(\d+)\]|file(\d*)")
CHUNK = 256 * 1024


@dataclass
class UploadedFile:
    """One ``files[n]`` part; ``data`` when small, ``path`` when spilled to the temp dir."""

    index: int
    filename: str
    size: int
    content_type: str
    data: bytes | None
    path: Path | None


@dataclass
class RequestBody:
    payload: dict[str, Any]
    files: list[UploadedFile]


class BodyReader:
    """Streams uploads so a 100 MB video never sits in memory; enforces the upload limit."""

    def __init__(self, spill_dir: Callable[[], Path], spill_threshold: int) -> None:
        self.spill_dir = spill_dir
        self.spill_threshold = spill_threshold

    async def read(self, request: web.Request, *, file_limit: int) -> RequestBody:
        if request.content_type.startswith("multipart/"):
            return await self._read_multipart(request, file_limit)
        raw = await request.read()
        if not raw:
            return RequestBody({}, [])
        try:
            payload = json.loads(raw)
        except ValueError:
            raise errors.invalid_json() from None
        return RequestBody(_as_object(payload), [])

    async def _read_multipart(self, request: web.Request, file_limit: int) -> RequestBody:
        reader = await request.multipart()
        payload: dict[str, Any] = {}
        files: list[UploadedFile] = []
        too_large = False
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            if name == "payload_json":
                try:
                    payload = json.loads(await part.text())
                except ValueError:
                    discard(files)
                    raise errors.invalid_json() from None
                continue
            match = FILE_FIELD.fullmatch(name)
            if match is None:
                await part.release()
                continue
            index = int(match.group(1) or match.group(2) or 0)
            upload = await self._read_file(part, index, file_limit)
            too_large = too_large or upload is None
            if upload is not None:
                files.append(upload)
        if too_large:
            discard(files)
            raise errors.entity_too_large()
        try:
            return RequestBody(_as_object(payload), files)
        except errors.DiscordHTTPError:
            discard(files)
            raise

    async def _read_file(self, part: BodyPartReader, index: int, limit: int) -> UploadedFile | None:
        """Read one part (to disk past the spill threshold); ``None`` once it exceeds
        ``limit``, after draining it so the client still gets its 413."""
        filename = part.filename or f"file{index}"
        sink = _Sink(self.spill_threshold, self.spill_dir)
        size = 0
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size <= limit:
                sink.write(chunk)
        data, path = sink.finish()
        if size > limit:
            if path is not None:
                path.unlink(missing_ok=True)
            return None
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return UploadedFile(index, filename, size, content_type, data, path)


def _as_object(payload: Any) -> dict[str, Any]:
    """Every route's body is a JSON object; anything else is refused before it is read."""
    if not isinstance(payload, dict):
        message = "Only dictionaries may be used in a DictType"
        raise errors.invalid_form_body(
            {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": message}]}
        )
    return payload


class _Sink:
    """Bytes in memory up to ``threshold``, then moved to a temp file in the spill dir."""

    def __init__(self, threshold: int, spill_dir: Callable[[], Path]) -> None:
        self._threshold = threshold
        self._spill_dir = spill_dir
        self._memory = BytesIO()
        self._file: IO[bytes] | None = None
        self._path: Path | None = None

    def write(self, chunk: bytes) -> None:
        if self._file is None and self._memory.tell() + len(chunk) > self._threshold:
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finish()
                dir=self._spill_dir(), suffix=".upload", delete=False
            )
            handle.write(self._memory.getvalue())
            self._memory = BytesIO()
            self._file, self._path = handle, Path(handle.name)
        (self._file or self._memory).write(chunk)

    def finish(self) -> tuple[bytes | None, Path | None]:
        if self._file is None:
            return self._memory.getvalue(), None
        self._file.close()
        return None, self._path


def discard(files: list[UploadedFile]) -> None:
    """Drop temp files of an upload that was refused or deduplicated."""
    for upload in files:
        if upload.path is not None:
            upload.path.unlink(missing_ok=True)
