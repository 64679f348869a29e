"""The error taxonomy and the one function that maps RunComfy's answers onto it."""

from __future__ import annotations

import email.utils

import pytest

from bot.runcomfy.answers import describe_detail, error_from_response, parse_retry_after
from bot.runcomfy.client import validate_request_id
from bot.runcomfy.errors import (
    AuthenticationError,
    ErrorKind,
    InsufficientBalanceError,
    InvalidInputError,
    InvalidRequestIdError,
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)

NOW = 1_750_000_000.0
ALL_ERRORS = [
    RunComfyError,
    AuthenticationError,
    InsufficientBalanceError,
    InvalidInputError,
    RequestNotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    SubmitOutcomeUnknownError,
    InvalidRequestIdError,
]


def mapped(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> RunComfyError:
    error = error_from_response(status, headers or {}, body, now=NOW)
    assert error is not None
    return error


# the classes


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_names_its_kind_and_has_a_safe_repr(cls: type[RunComfyError]) -> None:
    error = cls("details for the log", http_status=500, error_code=500001)
    assert isinstance(error.kind, ErrorKind)
    assert str(error) == "details for the log"
    assert repr(error) == (
        f"{cls.__name__}('details for the log', http_status=500, error_code=500001)"
    )
    assert isinstance(error, RunComfyError)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (RunComfyError, False),
        (AuthenticationError, False),
        (InsufficientBalanceError, False),
        (InvalidInputError, False),
        (RequestNotFoundError, False),
        (RateLimitedError, True),
        (ServerError, True),
        (TransportError, True),
        (SubmitOutcomeUnknownError, False),
        (InvalidRequestIdError, False),
    ],
)
def test_retryable_flags(cls: type[RunComfyError], retryable: bool) -> None:
    assert cls.retryable is retryable


def test_specific_attributes() -> None:
    assert InvalidInputError("x", detail=[{"loc": ["body", "duration"]}]).detail == [
        {"loc": ["body", "duration"]}
    ]
    assert RateLimitedError("x", retry_after=3.5).retry_after == 3.5
    assert RateLimitedError("x").retry_after is None
    assert TransportError("x").request_sent is True
    assert TransportError("x", request_sent=False).request_sent is False
    assert isinstance(InvalidRequestIdError("x"), ValueError)


def test_every_kind_belongs_to_exactly_one_error_class() -> None:
    kinds = [cls.kind for cls in ALL_ERRORS]
    assert sorted(kinds) == sorted(ErrorKind)


# HTTP status mapping


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidInputError),
        (401, AuthenticationError),
        (402, InsufficientBalanceError),
        (403, AuthenticationError),
        (404, RequestNotFoundError),
        (422, InvalidInputError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, RunComfyError),
        (302, RunComfyError),
    ],
)
def test_http_status_mapping(status: int, cls: type[RunComfyError]) -> None:
    error = mapped(status, {"error_message": "nope"})
    assert type(error) is cls
    assert error.http_status == status
    assert error.error_code is None
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400001, InvalidInputError),
        (400002, InsufficientBalanceError),
        (400004, AuthenticationError),
        (401001, AuthenticationError),
        (403001, AuthenticationError),
        (404001, RequestNotFoundError),
        (422001, InvalidInputError),
        (500001, ServerError),
    ],
)
@pytest.mark.parametrize("status", [200, 400])
def test_error_code_mapping_wins_over_http_status(
    code: int, cls: type[RunComfyError], status: int
) -> None:
    error = mapped(status, {"error_code": code, "error_message": "from RunComfy"})
    assert type(error) is cls
    assert error.error_code == code
    assert error.http_status == status
    assert "from RunComfy" in str(error)


def test_error_code_as_string() -> None:
    assert type(mapped(200, {"error_code": "400002"})) is InsufficientBalanceError


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (401999, AuthenticationError),
        (404777, RequestNotFoundError),
        (503002, ServerError),
        (400777, InvalidInputError),
        (429001, RateLimitedError),
        (123, RunComfyError),
    ],
)
def test_unknown_codes_map_by_family(code: int, cls: type[RunComfyError]) -> None:
    assert type(mapped(200, {"error_code": code})) is cls


def test_429_is_rate_limited_whatever_the_code() -> None:
    assert type(mapped(429, {"error_code": 500001})) is RateLimitedError


def test_success_is_not_an_error() -> None:
    assert error_from_response(200, {}, {"request_id": "x"}, now=NOW) is None
    assert error_from_response(201, {}, {}, now=NOW) is None
    assert error_from_response(200, {}, {"error_code": None, "status": "x"}, now=NOW) is None
    assert error_from_response(200, {}, {"error_code": 0, "status": "x"}, now=NOW) is None
    assert error_from_response(200, {}, {"error_code": "0"}, now=NOW) is None


@pytest.mark.parametrize("body", [None, ["a", "list"], "text", 3])
def test_2xx_that_is_not_a_json_object_is_a_transport_error(body: object) -> None:
    error = mapped(200, body)
    assert type(error) is TransportError
    assert error.request_sent is True


def test_error_status_without_json_still_maps_by_status() -> None:
    error = mapped(503, None)
    assert type(error) is ServerError
    assert str(error) == "RunComfy answered HTTP 503"


@pytest.mark.parametrize("key", ["error_message", "message", "detail", "error"])
def test_message_sources(key: str) -> None:
    assert "the reason" in str(mapped(500, {key: "the reason"}))


def test_message_is_one_line_and_bounded() -> None:
    error = mapped(500, {"error_message": "line one\nline two " + "x" * 1000})
    assert "\n" not in str(error)
    assert len(str(error)) < 400


def test_redaction_of_echoed_secrets() -> None:
    error = error_from_response(
        401,
        {},
        {"error_message": "token sk-SECRET is invalid"},
        now=NOW,
        redact=lambda text: text.replace("sk-SECRET", "***"),
    )
    assert error is not None
    assert "sk-SECRET" not in str(error)
    assert "token *** is invalid" in str(error)


# validation details


def test_invalid_input_names_the_field_from_a_detail_list() -> None:
    detail = [
        {"loc": ["body", "duration"], "msg": "must be between 3 and 15", "type": "range"},
        {"loc": ["body", "multi_prompt", 1, "prompt"], "msg": "field required"},
    ]
    error = mapped(
        422, {"error_code": 422001, "error_message": "Validation error", "detail": detail}
    )
    assert isinstance(error, InvalidInputError)
    assert error.detail == detail
    assert "duration: must be between 3 and 15" in str(error)
    assert "multi_prompt.1.prompt: field required" in str(error)
    assert "duration" in error.reason


def test_invalid_input_with_string_detail() -> None:
    error = mapped(400, {"detail": "prompt is too long"})
    assert isinstance(error, InvalidInputError)
    assert "prompt is too long" in str(error)
    assert "prompt is too long" in error.reason


def test_invalid_input_without_detail_uses_the_message() -> None:
    error = mapped(400, {"error_code": 400001, "error_message": "Unknown model id"})
    assert "Unknown model id" in str(error)


def test_invalid_input_without_any_words_has_no_reason() -> None:
    """Nothing English is made up for the member: the Discord side words the silence."""
    error = mapped(400, {"error_code": 400001})
    assert isinstance(error, InvalidInputError)
    assert error.reason is None
    assert "no reason given" in str(error)


@pytest.mark.parametrize(
    ("detail", "text"),
    [
        ("plain words", "plain words"),
        ([{"loc": "cfg_scale", "msg": "bad"}], "cfg_scale: bad"),
        ([{"loc": ["body"], "msg": "not an object"}], "input: not an object"),
        ({"loc": ["body", "sound"], "message": "bool"}, "sound: bool"),
        (["first", {"msg": "second"}], "first; input: second"),
        ([], None),
        (None, None),
        (42, None),
    ],
)
def test_describe_detail(detail: object, text: str | None) -> None:
    assert describe_detail(detail) == text


# Retry-After


def test_rate_limit_reads_retry_after_seconds() -> None:
    error = mapped(429, {"error_message": "slow down"}, {"Retry-After": "7"})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7.0


def test_rate_limit_without_retry_after() -> None:
    error = mapped(429, None)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("2.5", 2.5),
        (" 10 ", 10.0),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_http_date() -> None:
    header = email.utils.formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after(header, NOW) == pytest.approx(30.0)
    past = email.utils.formatdate(NOW - 30, usegmt=True)
    assert parse_retry_after(past, NOW) == 0.0


# request ids


@pytest.mark.parametrize("request_id", ["a", "abc-DEF_123", "x" * 128, "0f9c-11ee"])
def test_valid_request_ids(request_id: str) -> None:
    assert validate_request_id(request_id) == request_id


@pytest.mark.parametrize(
    "request_id",
    ["", "x" * 129, "../status", "a/b", "a?b=c", "a b", "a\n", "é", "a%2F", 42, None],
)
def test_invalid_request_ids_are_refused(request_id: object) -> None:
    with pytest.raises(InvalidRequestIdError):
        validate_request_id(request_id)
