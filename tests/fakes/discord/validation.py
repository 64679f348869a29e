"""Discord's body limits, answered as 400 Invalid Form Body (50035) with a Discord-style tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import errors
from .drafts import MessageDraft
from .errors import FormErrors
from .records import IS_COMPONENTS_V2, FakeMessage

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_FIELDS_MAX = 25
CUSTOM_ID_MAX = 100
ROW_MAX = 5
ROWS_MAX = 5
V2_COMPONENTS_MAX = 40
NONCE_MAX = 25
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
MODAL_TITLE_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
CHOICES_MAX = 25

ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18
LINK_STYLE, PREMIUM_STYLE = 5, 6
SELECT_TYPES = {3, 5, 6, 7, 8}
PARSE_VALUES = {"users", "roles", "everyone"}


def validate_message(draft: MessageDraft, *, creating: bool) -> None:
    """Raise 50035 for over-limit fields, or 50006 for a create that would show nothing."""
    form = FormErrors()
    content = draft.value("content", "")
    if not isinstance(content, str):
        form.add(["content"], "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    elif len(content) > CONTENT_MAX:
        form.max_length(["content"], CONTENT_MAX)
    _check_embeds(form, draft.embed_list)
    v2 = bool(draft.flag_bits & IS_COMPONENTS_V2)
    _check_components(form, draft.component_list, v2=v2)
    if v2 and (content or draft.embed_list):
        form.add(
            ["content" if content else "embeds"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using components v2",
        )
    _check_allowed_mentions(form, draft.value("allowed_mentions", None))
    nonce = draft.value("nonce", None)
    if nonce is not None and len(str(nonce)) > NONCE_MAX:
        form.max_length(["nonce"], NONCE_MAX)
    _check_attachments(form, draft)
    form.raise_if_any()
    if creating and _is_empty(draft):
        raise errors.empty_message()


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


def _check_embeds(form: FormErrors, embeds: list[dict[str, Any]]) -> None:
    if len(embeds) > EMBEDS_MAX:
        form.max_length(["embeds"], EMBEDS_MAX)
        return
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > limit:
                form.max_length(["embeds", index, key], limit)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            form.max_length(["embeds", index, "fields"], EMBED_FIELDS_MAX)
        for f_index, fld in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                text = str(fld.get(key) or "")
                total += len(text)
                if not text:
                    form.add(
                        ["embeds", index, "fields", f_index, key],
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                elif len(text) > limit:
                    form.max_length(["embeds", index, "fields", f_index, key], limit)
        for key, inner, limit in (("footer", "text", 2048), ("author", "name", 256)):
            text = str((embed.get(key) or {}).get(inner) or "")
            total += len(text)
            if len(text) > limit:
                form.max_length(["embeds", index, key, inner], limit)
    if total > EMBED_TOTAL_MAX:
        form.add(
            ["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def _check_components(form: FormErrors, components: list[dict[str, Any]], *, v2: bool) -> None:
    if v2:
        count = sum(1 for _ in _walk(components))
        if count > V2_COMPONENTS_MAX:
            form.max_length(["components"], V2_COMPONENTS_MAX)
    elif len(components) > ROWS_MAX:
        form.max_length(["components"], ROWS_MAX)
    seen: set[str] = set()
    for index, component in enumerate(components):
        if not v2 and component.get("type") != ACTION_ROW:
            form.add(
                ["components", index, "type"],
                "UNION_TYPE_CHOICES",
                f'Value of field "type" must be one of ({ACTION_ROW},).',
            )
        _check_component(form, component, ["components", index], seen)


def _check_component(
    form: FormErrors, component: dict[str, Any], path: list[str | int], seen: set[str]
) -> None:
    kind = component.get("type")
    if kind == ACTION_ROW:
        children = component.get("components") or []
        if not 1 <= len(children) <= ROW_MAX:
            form.add(
                [*path, "components"],
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {ROW_MAX} in length.",
            )
    custom_id = component.get("custom_id")
    if kind == BUTTON and component.get("style") not in (LINK_STYLE, PREMIUM_STYLE):
        if not custom_id:
            form.add(
                [*path, "custom_id"],
                "BASE_TYPE_REQUIRED",
                "This field is required",
            )
        if len(str(component.get("label") or "")) > BUTTON_LABEL_MAX:
            form.max_length([*path, "label"], BUTTON_LABEL_MAX)
    if kind in SELECT_TYPES and len(component.get("options") or []) > SELECT_OPTIONS_MAX:
        form.max_length([*path, "options"], SELECT_OPTIONS_MAX)
    if custom_id is not None:
        if len(str(custom_id)) > CUSTOM_ID_MAX:
            form.max_length([*path, "custom_id"], CUSTOM_ID_MAX)
        elif custom_id in seen:
            form.add(
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(str(custom_id))
    for index, child in enumerate(component.get("components") or []):
        _check_component(form, child, [*path, "components", index], seen)
    for key in ("accessory", "component"):
        child = component.get(key)
        if isinstance(child, dict):
            _check_component(form, child, [*path, key], seen)


def _walk(components: Sequence[dict[str, Any]]) -> Any:
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                yield from _walk([component[key]])


def _check_allowed_mentions(form: FormErrors, allowed: dict[str, Any] | None) -> None:
    if allowed is None:
        return
    parse = allowed.get("parse") or []
    for index, value in enumerate(parse):
        if value not in PARSE_VALUES:
            form.add(
                ["allowed_mentions", "parse", index],
                "BASE_TYPE_CHOICES",
                f"Value must be one of {sorted(PARSE_VALUES)}.",
            )
    for kind in ("users", "roles"):
        listed = allowed.get(kind) or []
        if listed and kind in parse:
            form.add(
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(listed) > 100:
            form.max_length(["allowed_mentions", kind], 100)


def _check_attachments(form: FormErrors, draft: MessageDraft) -> None:
    for index, attachment in enumerate(draft.value("attachments", [])):
        if "id" not in attachment:
            form.add(["attachments", index, "id"], "BASE_TYPE_REQUIRED", "This field is required")


def validate_modal(data: dict[str, Any]) -> None:
    """A modal (callback type 9): title, custom_id, 1-5 top-level components, input limits."""
    form = FormErrors()
    title = str(data.get("title") or "")
    if not title:
        form.add(["data", "title"], "BASE_TYPE_REQUIRED", "This field is required")
    elif len(title) > MODAL_TITLE_MAX:
        form.max_length(["data", "title"], MODAL_TITLE_MAX)
    custom_id = str(data.get("custom_id") or "")
    if not custom_id:
        form.add(["data", "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
    elif len(custom_id) > CUSTOM_ID_MAX:
        form.max_length(["data", "custom_id"], CUSTOM_ID_MAX)
    components = data.get("components") or []
    if not 1 <= len(components) <= ROWS_MAX:
        form.add(
            ["data", "components"],
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {ROWS_MAX} in length.",
        )
    for index, component in enumerate(components):
        _check_component(form, component, ["data", "components", index], set())
    for component in _walk(components):
        if component.get("type") != TEXT_INPUT:
            continue
        if len(str(component.get("value") or "")) > TEXT_INPUT_VALUE_MAX:
            form.max_length(["data", "components", "value"], TEXT_INPUT_VALUE_MAX)
        if int(component.get("max_length") or 0) > TEXT_INPUT_VALUE_MAX:
            form.add(
                ["data", "components", "max_length"],
                "NUMBER_TYPE_MAX",
                f"int value should be less than or equal to {TEXT_INPUT_VALUE_MAX}.",
            )
    form.raise_if_any()


def validate_choices(data: dict[str, Any]) -> list[dict[str, Any]]:
    """An autocomplete result (callback type 8): at most 25 choices with 1-100 char names."""
    form = FormErrors()
    choices = list(data.get("choices") or [])
    if len(choices) > CHOICES_MAX:
        form.max_length(["data", "choices"], CHOICES_MAX)
    for index, choice in enumerate(choices):
        name = str(choice.get("name") or "")
        if not 1 <= len(name) <= 100:
            form.add(
                ["data", "choices", index, "name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        value = choice.get("value")
        if isinstance(value, str) and len(value) > 100:
            form.max_length(["data", "choices", index, "value"], 100)
    form.raise_if_any()
    return choices


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
