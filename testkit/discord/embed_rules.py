"""Discord's embed rules: per-field lengths, URLs, colour, timestamp, counts and total size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import FormErrors
from .form_checks import Path, as_dict, dicts, integer, required, text, url

EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
FIELDS_MAX = 25
COLOR_MAX = 0xFFFFFF
WEB_SCHEMES = ("http", "https")
IMAGE_SCHEMES = (*WEB_SCHEMES, "attachment")


def check_embeds(form: FormErrors, value: Any) -> None:
    """All embeds of one message; the 6,000 total spans every embed, as Discord counts."""
    embeds = dicts(form, value, ["embeds"])
    if len(embeds) > EMBEDS_MAX:
        form.max_length(["embeds"], EMBEDS_MAX)
        return
    total = sum(_check_embed(form, embed, ["embeds", index]) for index, embed in embeds)
    if total > EMBED_TOTAL_MAX:
        form.add(
            ["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def _check_embed(form: FormErrors, embed: dict[str, Any], path: Path) -> int:
    """Check one embed; returns its characters counted toward the total."""
    size = 0
    for key, limit in (("title", 256), ("description", 4096)):
        size += len(text(form, embed, key, path, max_len=limit) or "")
    url(form, embed, "url", path, WEB_SCHEMES)
    integer(form, embed, "color", path, low=0, high=COLOR_MAX)
    _check_timestamp(form, embed, path)
    for key, schemes in (("image", IMAGE_SCHEMES), ("thumbnail", IMAGE_SCHEMES)):
        media = as_dict(form, embed.get(key), [*path, key])
        if key in embed and embed[key] is not None and "url" not in media:
            required(form, [*path, key, "url"])
        url(form, media, "url", [*path, key], schemes)
    size += _check_part(form, embed, "footer", "text", 2048, path)
    size += _check_part(form, embed, "author", "name", 256, path)
    author = as_dict(form, embed.get("author"), [*path, "author"])
    url(form, author, "url", [*path, "author"], WEB_SCHEMES)
    return size + _check_fields(form, embed.get("fields"), [*path, "fields"])


def _check_part(
    form: FormErrors, embed: dict[str, Any], key: str, inner: str, limit: int, path: Path
) -> int:
    """``footer.text`` / ``author.name``: required once the object is given."""
    if embed.get(key) is None:
        return 0
    part = as_dict(form, embed[key], [*path, key])
    return len(text(form, part, inner, [*path, key], max_len=limit, required=True) or "")


def _check_fields(form: FormErrors, value: Any, path: Path) -> int:
    fields = dicts(form, value, path)
    if len(fields) > FIELDS_MAX:
        form.max_length(path, FIELDS_MAX)
    size = 0
    for index, field in fields:
        for key, limit in (("name", 256), ("value", 1024)):
            if field.get(key) in (None, ""):
                required(form, [*path, index, key])
                continue
            size += len(text(form, field, key, [*path, index], max_len=limit) or "")
    return size


def _check_timestamp(form: FormErrors, embed: dict[str, Any], path: Path) -> None:
    """ISO8601 only: an unparsable one would be echoed back and crash discord.py's parser."""
    value = embed.get("timestamp")
    if value is None:
        return
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
            return
        except ValueError:
            pass
    form.add(
        [*path, "timestamp"],
        "DATE_TIME_TYPE_PARSE",
        f"Could not parse {value}. Should be ISO8601.",
    )
