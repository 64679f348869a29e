"""Discord's message body rules, answered as 400 Invalid Form Body (50035) with a Discord-style
tree; embeds, components, modals, choices and commands have their own ``*_rules`` modules."""

from __future__ import annotations

from typing import Any

from . import errors
from .component_rules import check_components
from .drafts import MessageDraft
from .embed_rules import check_embeds
from .errors import FormErrors
from .form_checks import as_dict, as_list, boolean, dicts, integer, snowflake, text
from .records import IS_COMPONENTS_V2, FakeMessage

CONTENT_MAX = 2000
NONCE_MAX = 25
ATTACHMENTS_MAX = 10
ALLOWED_IDS_MAX = 100
STICKERS_MAX = 3
PARSE_VALUES = {"users", "roles", "everyone"}


def validate_message(
    draft: MessageDraft, *, creating: bool, existing: FakeMessage | None = None
) -> None:
    """Raise 50035 for invalid fields, or 50006 for a create that would show nothing.
    ``existing`` is the message an edit changes (its flags and attachments count)."""
    form = FormErrors()
    body = draft.fields()
    content = text(form, body, "content", [], max_len=CONTENT_MAX) or ""
    flags = integer(form, body, "flags", [], low=0)
    v2 = _components_v2(form, flags, existing)
    check_embeds(form, body.get("embeds"))
    kept = existing.attachments if existing is not None else []
    filenames = [planned.filename for planned in draft.attachment_plan(kept)]
    check_components(form, body.get("components"), v2=v2, filenames=filenames)
    if v2:
        _check_v2_fields(form, draft, content, creating=creating, existing=existing)
    _check_allowed_mentions(form, body.get("allowed_mentions"))
    _check_nonce(form, body.get("nonce"))
    _check_attachments(form, draft)
    as_dict(form, body.get("message_reference"), ["message_reference"])
    if creating:
        _check_create_only(form, body)
    form.raise_if_any()
    if creating and _is_empty(draft):
        raise errors.empty_message()


def _components_v2(form: FormErrors, flags: int | None, existing: FakeMessage | None) -> bool:
    """Whether the body is read as Components V2: its ``flags``, else the message's own.

    Discord's Edit Message docs: "The SUPPRESS_EMBEDS flag can be both set and unset, while
    the IS_COMPONENTS_V2 flag can only be set." An edit whose flags leave it out has its
    components read as legacy ones (Discord then answers UNION_TYPE_CHOICES for a V2 layout,
    as reported in discord-net/Discord.Net#3132) and is refused at ``flags`` as well."""
    had = existing is not None and bool(existing.flags & IS_COMPONENTS_V2)
    if flags is None:
        return had
    asked = bool(flags & IS_COMPONENTS_V2)
    if had and not asked:
        form.add(
            ["flags"],
            "MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG",
            "The IS_COMPONENTS_V2 flag cannot be removed from a message.",
        )
    return asked


def _check_v2_fields(
    form: FormErrors,
    draft: MessageDraft,
    content: str,
    *,
    creating: bool,
    existing: FakeMessage | None,
) -> None:
    """With the flag a message "can only contain components": ``content``, ``embeds`` and,
    on create, ``sticker_ids`` and ``poll`` are refused (Create Message docs). An edit that
    sets the flag on a message that has content or embeds must reset them in the same
    request, content to null and embeds to [] (Edit Message docs: "Failing to do this will
    result in a 400 BAD REQUEST response"), and name the attachments it keeps
    (discord.py's ``Message.edit`` note: set ``attachments`` "if the previous message had
    any")."""
    body = draft.fields()
    refused = {"content": bool(content), "embeds": bool(body.get("embeds"))}
    if creating:
        refused["sticker_ids"] = bool(body.get("sticker_ids"))
        refused["poll"] = body.get("poll") is not None
    for field, present in refused.items():
        if present:
            form.add(
                [field],
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                f"The '{field}' field cannot be used when using components v2",
            )
    if existing is None or existing.flags & IS_COMPONENTS_V2:
        return
    left = {
        "content": bool(existing.content),
        "embeds": bool(existing.embeds),
        "attachments": bool(existing.attachments),
    }
    for field, present in left.items():
        if present and not draft.given(field):
            form.add(
                [field],
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                f"The '{field}' field must be reset when setting the components v2 flag",
            )


def _is_empty(draft: MessageDraft) -> bool:
    return not (
        draft.value("content", "")
        or draft.embed_list
        or draft.component_list
        or draft.files
        or draft.value("attachments", [])
        or draft.value("sticker_ids", [])
        or draft.value("poll", None)
    )


def _check_create_only(form: FormErrors, body: dict[str, Any]) -> None:
    """Fields only a new message takes (an edit ignores them): booleans ``tts`` and
    ``enforce_nonce``, and up to three sticker ids."""
    boolean(form, body, "tts", [])
    boolean(form, body, "enforce_nonce", [])
    stickers = as_list(form, body.get("sticker_ids"), ["sticker_ids"])
    if len(stickers) > STICKERS_MAX:
        form.max_length(["sticker_ids"], STICKERS_MAX)
    for index, sticker_id in enumerate(stickers):
        snowflake(form, sticker_id, ["sticker_ids", index])


def _check_allowed_mentions(form: FormErrors, value: Any) -> None:
    """Known ``parse`` values, unique snowflake ids, no id list beside the same ``parse``
    kind, and a boolean ``replied_user``."""
    if value is None:
        return
    allowed = as_dict(form, value, ["allowed_mentions"])
    parse = as_list(form, allowed.get("parse"), ["allowed_mentions", "parse"])
    boolean(form, allowed, "replied_user", ["allowed_mentions"])
    for index, kind in enumerate(parse):
        if not isinstance(kind, str) or kind not in PARSE_VALUES:
            form.add(
                ["allowed_mentions", "parse", index],
                "BASE_TYPE_CHOICES",
                f"Value must be one of {sorted(PARSE_VALUES)}.",
            )
    for kind in ("users", "roles"):
        path = ["allowed_mentions", kind]
        listed = as_list(form, allowed.get(kind), path)
        if listed and kind in parse:
            form.add(
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(listed) > ALLOWED_IDS_MAX:
            form.max_length(path, ALLOWED_IDS_MAX)
        seen: set[int] = set()
        for index, item in enumerate(listed):
            snowflake_id = snowflake(form, item, [*path, index])
            if snowflake_id is None:
                continue
            if snowflake_id in seen:
                form.add(
                    [*path, index],
                    "SET_TYPE_ALREADY_CONTAINS_VALUE",
                    "The set already contains this value",
                )
            seen.add(snowflake_id)


def _check_nonce(form: FormErrors, nonce: Any) -> None:
    if nonce is None:
        return
    if isinstance(nonce, bool) or not isinstance(nonce, str | int):
        form.add(["nonce"], "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    elif len(str(nonce)) > NONCE_MAX:
        form.max_length(["nonce"], NONCE_MAX)


def _check_attachments(form: FormErrors, draft: MessageDraft) -> None:
    """At most ten, counting uploaded ``files[n]`` parts the list does not name."""
    attachments = dicts(form, draft.fields().get("attachments"), ["attachments"])
    for index, attachment in attachments:
        if "id" not in attachment:
            form.add(["attachments", index, "id"], "BASE_TYPE_REQUIRED", "This field is required")
    if max(len(attachments), len(draft.files)) > ATTACHMENTS_MAX:
        form.max_length(["attachments"], ATTACHMENTS_MAX)


def would_be_empty(message: FakeMessage, draft: MessageDraft) -> bool:
    """Whether an edit would leave the message showing nothing (Discord refuses: 50006)."""
    content = draft.value("content", "") if draft.given("content") else message.content
    embeds = draft.embed_list if draft.given("embeds") else message.embeds
    components = draft.component_list if draft.given("components") else message.components
    if draft.given("attachments"):
        attachments = bool(draft.value("attachments", [])) or bool(draft.files)
    else:
        attachments = bool(message.attachments) or bool(draft.files)
    return not (content or embeds or components or attachments)
