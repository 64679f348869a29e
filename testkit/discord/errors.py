"""Discord's error answers (HTTP status + JSON ``code``) and the fake's own misuse error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FakeDiscordUsageError(RuntimeError):
    """A test asked the fake for something a real Discord client could not do."""


INVALID_FORM_BODY = 50035


class DiscordHTTPError(Exception):
    """An error answer exactly as Discord sends it; raised in handlers, rendered by the server."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class FormErrors:
    """Collects field errors into Discord's nested ``errors`` tree of ``_errors`` lists."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Sequence[str | int], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def __bool__(self) -> bool:
        return bool(self.tree)

    def raise_if_any(self) -> None:
        if self.tree:
            raise invalid_form_body(self.tree)


def unauthorized() -> DiscordHTTPError:
    return DiscordHTTPError(401, 0, "401: Unauthorized")


def route_not_found() -> DiscordHTTPError:
    return DiscordHTTPError(404, 0, "404: Not Found")


def unknown_channel() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10003, "Unknown Channel")


def unknown_guild() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10004, "Unknown Guild")


def unknown_member() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10007, "Unknown Member")


def unknown_message() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10008, "Unknown Message")


def unknown_user() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10013, "Unknown User")


def unknown_webhook() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10062, "Unknown interaction")


def unknown_application_command() -> DiscordHTTPError:
    return DiscordHTTPError(404, 10063, "Unknown application command")


def max_application_commands() -> DiscordHTTPError:
    return DiscordHTTPError(400, 30032, "Maximum number of application commands reached")


def entity_too_large() -> DiscordHTTPError:
    return DiscordHTTPError(413, 40005, "Request entity too large")


def already_acknowledged() -> DiscordHTTPError:
    return DiscordHTTPError(400, 40060, "Interaction has already been acknowledged.")


def missing_access() -> DiscordHTTPError:
    return DiscordHTTPError(403, 50001, "Missing Access")


def cannot_edit_other_author() -> DiscordHTTPError:
    return DiscordHTTPError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> DiscordHTTPError:
    return DiscordHTTPError(400, 50006, "Cannot send an empty message")


def cannot_message_user() -> DiscordHTTPError:
    return DiscordHTTPError(403, 50007, "Cannot send messages to this user")


def missing_permissions() -> DiscordHTTPError:
    return DiscordHTTPError(403, 50013, "Missing Permissions")


def invalid_channel_type() -> DiscordHTTPError:
    return DiscordHTTPError(400, 50024, "Cannot execute action on this channel type")


def archived_thread() -> DiscordHTTPError:
    return DiscordHTTPError(400, 50083, "Thread is archived")


def thread_already_created() -> DiscordHTTPError:
    return DiscordHTTPError(400, 160004, "A thread has already been created for this message")


def thread_locked() -> DiscordHTTPError:
    return DiscordHTTPError(400, 160005, "Thread is locked")


def invalid_form_body(errors: dict[str, Any]) -> DiscordHTTPError:
    return DiscordHTTPError(400, INVALID_FORM_BODY, "Invalid Form Body", errors=errors)


def invalid_json() -> DiscordHTTPError:
    return DiscordHTTPError(400, 50109, "The request body contains invalid JSON.")


def reply_without_history() -> DiscordHTTPError:
    return DiscordHTTPError(403, 160002, "Cannot reply without permission to read message history")


def server_error(status: int) -> DiscordHTTPError:
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    return DiscordHTTPError(status, 0, f"{status}: {reason.get(status, 'Server Error')}")
