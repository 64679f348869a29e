"""Per-server settings, each declared once in `SPECS`: its key, the `.env` setting that
gives its default, the default, the allowed values, its label, and how it is read from
`.env`, checked when a moderator changes it, stored, and shown.

`.env` defaults (`bot.config`), `/video settings`, the settings panel and the checks all
read this one table. What a server changed is kept by `bot.store.settings_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from bot.formatting import as_many_as_fit
from bot.i18n import Texts, available_languages, english, language_name
from bot.jobs.line import DEFAULT_PER_SERVER, DEFAULT_PER_USER


class Setting(StrEnum):
    MODERATOR_ROLES = "moderator_roles"
    CHANNELS = "channels"
    MAX_ACTIVE_PER_USER = "max_active_per_user"
    MAX_ACTIVE_PER_SERVER = "max_active_per_server"
    DAILY_SECONDS_PER_USER = "daily_seconds_per_user"
    DAILY_BUDGET_USD = "daily_budget_usd"
    SOUND_DEFAULT = "sound_default"
    AUDIT_CHANNEL = "audit_channel"
    LANGUAGE = "language"
    STRIKES_TO_BLOCK = "strikes_to_block"
    STRIKE_BLOCK_HOURS = "strike_block_hours"
    SESSION_HOSTS = "session_hosts"
    VOTES_PER_MEMBER = "votes_per_member"


class Source(StrEnum):
    """Where a setting's value comes from; shown as `setting.source.<source>`."""

    SERVER = "server"
    DEFAULT = "default"


class SettingValueError(ValueError):
    """A value out of range; the message says what is allowed."""


class Shows(Protocol):
    """How a value is shown, in the reader's language (English when left out)."""

    def __call__(self, value: Any, tr: Texts | None = None, /) -> str: ...


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """Its label (`setting.<key>`) and what is allowed (`setting.<key>.allowed`, ending the
    sentence "… must be <allowed>.") are in the catalogs."""

    key: Setting
    attribute: str
    """The field of `ServerSettings` that holds it."""
    env: str | None
    """The `.env` setting that gives every server's default (None: only the built-in one)."""
    convert: Callable[[Any], Any]
    """A value from `.env` text or a command → the setting's value; ValueError when refused."""
    show: Shows
    to_json: Callable[[Any], Any] = lambda value: value
    from_json: Callable[[Any], Any] = lambda raw: raw

    def label_in(self, tr: Texts) -> str:
        return tr(f"setting.{self.key.value}")

    def allowed_in(self, tr: Texts) -> str:
        languages = ", ".join(available_languages())
        return tr(f"setting.{self.key.value}.allowed", languages=languages)

    @property
    def label(self) -> str:
        """In English, as `.env` problems are told to the operator."""
        return self.label_in(english())

    @property
    def allowed(self) -> str:
        return self.allowed_in(english())

    @property
    def default(self) -> Any:
        """The built-in default: the `ServerSettings` field's own default."""
        return ServerSettings.__dataclass_fields__[self.attribute].default

    def check(self, value: Any, tr: Texts | None = None) -> Any:
        """The value a moderator gave, checked; `SettingValueError` names what is allowed."""
        tr = tr or english()
        try:
            return self.convert(value)
        except (ValueError, TypeError, InvalidOperation):
            refusal = tr("setting.must_be", label=self.label_in(tr), allowed=self.allowed_in(tr))
            raise SettingValueError(refusal) from None

    def parse_env(self, text: str) -> Any:
        """A `.env` value (text), checked the same way."""
        return self.convert(text)


def whole_number(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = int(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValueError(value)
        return number

    return convert


def optional_whole_number(low: int, high: int) -> Callable[[Any], int | None]:
    """0 (or nothing) turns the limit off."""
    inner = whole_number(low, high)

    def convert(value: Any) -> int | None:
        if value is None or value == 0 or value == "0":
            return None
        return inner(value)

    return convert


def optional_money(low: Decimal, high: Decimal) -> Callable[[Any], Decimal | None]:
    """0 (or nothing) turns the budget off; amounts are kept to the cent."""

    def convert(value: Any) -> Decimal | None:
        if value is None:
            return None
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        if amount == 0:
            return None
        if not amount.is_finite() or not low <= amount <= high:
            raise ValueError(value)
        return amount

    return convert


def id_set(value: Any) -> frozenset[int]:
    """A comma-separated list of ids (from `.env`), or any collection of ids."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.replace(";", ",").split(",")]
        if any(part and not part.isdigit() for part in parts):
            raise ValueError(value)
        return frozenset(int(part) for part in parts if part)
    return frozenset(int(item) for item in value)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(value)


def optional_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def language(value: Any) -> str | None:
    """A language the bot has a catalog for (`de`), or None for Discord's server language."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in available_languages():
        raise ValueError(value)
    return value


def _sorted_ids(value: frozenset[int]) -> list[int]:
    return sorted(value)


LIST_MAX_CHARS = 900
"""A shown list of roles or channels: room for its source line in an embed field (1,024)."""


def listed(items: Sequence[str], limit: int = LIST_MAX_CHARS, tr: Texts | None = None) -> str:
    """Items joined by commas; when they do not fit in `limit` characters, as many as fit
    and then "and N more"."""
    tr = tr or english()
    return as_many_as_fit(
        items,
        separator=", ",
        limit=limit,
        more=lambda hidden: tr("list.and_more", count=hidden),
        none_fit=lambda hidden: tr("list.in_all", count=hidden),
    )


def _roles(ids: frozenset[int], tr: Texts | None = None) -> str:
    tr = tr or english()
    return listed([f"<@&{i}>" for i in sorted(ids)], tr=tr) or tr("setting.show.no_roles")


def _channels(ids: frozenset[int], tr: Texts | None = None) -> str:
    tr = tr or english()
    return listed([f"<#{i}>" for i in sorted(ids)], tr=tr) or tr("setting.show.every_channel")


def _whole(number: int, tr: Texts | None = None) -> str:
    return str(number)


def _seconds(seconds: int | None, tr: Texts | None = None) -> str:
    tr = tr or english()
    if seconds is None:
        return tr("setting.show.no_quota")
    return tr("setting.show.seconds", seconds=tr.integer(seconds))


def _budget(budget: Decimal | None, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr.usd(budget) if budget is not None else tr("setting.show.no_budget")


def _on_off(on: bool, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr("setting.show.on") if on else tr("setting.show.off")


def _strikes(count: int, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr("setting.show.strikes", count=count) if count else tr("setting.show.off")


def _hours(hours: int, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr("setting.show.hours", hours=tr.integer(hours))


def _channel(channel: int | None, tr: Texts | None = None) -> str:
    tr = tr or english()
    return f"<#{channel}>" if channel else tr("setting.show.none")


def _language(chosen: str | None, tr: Texts | None = None) -> str:
    tr = tr or english()
    return language_name(chosen) if chosen else tr("settings.language.server")


def _decimal_or_none(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(raw)


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


BUDGET_RANGE = (Decimal("0.01"), Decimal("100000"))
STRIKES_MAX = 20
STRIKE_BLOCK_HOURS_MAX = 24 * 365

SPECS: Mapping[Setting, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            key=Setting.MODERATOR_ROLES,
            attribute="moderator_role_ids",
            env="MODERATOR_ROLE_IDS",
            convert=id_set,
            show=_roles,
            to_json=_sorted_ids,
            from_json=id_set,
        ),
        SettingSpec(
            key=Setting.CHANNELS,
            attribute="channel_ids",
            env="VIDEO_CHANNEL_IDS",
            convert=id_set,
            show=_channels,
            to_json=_sorted_ids,
            from_json=id_set,
        ),
        SettingSpec(
            key=Setting.MAX_ACTIVE_PER_USER,
            attribute="max_active_per_user",
            env="MAX_ACTIVE_JOBS_PER_USER",
            convert=whole_number(1, 100),
            show=_whole,
        ),
        SettingSpec(
            key=Setting.MAX_ACTIVE_PER_SERVER,
            attribute="max_active_per_server",
            env="MAX_ACTIVE_JOBS_PER_SERVER",
            convert=whole_number(1, 1000),
            show=_whole,
        ),
        SettingSpec(
            key=Setting.DAILY_SECONDS_PER_USER,
            attribute="daily_seconds_per_user",
            env="DAILY_VIDEO_SECONDS_PER_USER",
            convert=optional_whole_number(3, 86_400),
            show=_seconds,
        ),
        SettingSpec(
            key=Setting.DAILY_BUDGET_USD,
            attribute="daily_budget_usd",
            env="DAILY_BUDGET_USD",
            convert=optional_money(*BUDGET_RANGE),
            show=_budget,
            to_json=_text_or_none,
            from_json=_decimal_or_none,
        ),
        SettingSpec(
            key=Setting.SOUND_DEFAULT,
            attribute="sound_default",
            env="SOUND_DEFAULT",
            convert=boolean,
            show=_on_off,
        ),
        SettingSpec(
            key=Setting.AUDIT_CHANNEL,
            attribute="audit_channel_id",
            env=None,
            convert=optional_id,
            show=_channel,
        ),
        SettingSpec(
            key=Setting.LANGUAGE,
            attribute="language",
            env=None,
            convert=language,
            show=_language,
        ),
        SettingSpec(
            key=Setting.STRIKES_TO_BLOCK,
            attribute="strikes_to_block",
            env="STRIKES_TO_BLOCK",
            convert=whole_number(0, STRIKES_MAX),
            show=_strikes,
        ),
        SettingSpec(
            key=Setting.STRIKE_BLOCK_HOURS,
            attribute="strike_block_hours",
            env="STRIKE_BLOCK_HOURS",
            convert=whole_number(1, STRIKE_BLOCK_HOURS_MAX),
            show=_hours,
        ),
        SettingSpec(
            key=Setting.SESSION_HOSTS,
            attribute="session_host_role_ids",
            env=None,
            convert=id_set,
            show=_roles,
            to_json=_sorted_ids,
            from_json=id_set,
        ),
        SettingSpec(
            key=Setting.VOTES_PER_MEMBER,
            attribute="votes_per_member",
            env=None,
            convert=whole_number(1, 25),
            show=_whole,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The effective settings of one server; `sources` says where each value came from."""

    moderator_role_ids: frozenset[int] = frozenset()
    channel_ids: frozenset[int] = frozenset()
    """Channels where videos may be made; empty means every channel."""
    max_active_per_user: int = DEFAULT_PER_USER
    max_active_per_server: int = DEFAULT_PER_SERVER
    daily_seconds_per_user: int | None = None
    daily_budget_usd: Decimal | None = None
    sound_default: bool = True
    audit_channel_id: int | None = None
    language: str | None = None
    """The language of status messages, videos and audit lines; None: Discord's."""
    strikes_to_block: int = 3
    """Videos refused for their content within 24 hours that block a member; 0: never."""
    strike_block_hours: int = 24
    session_host_role_ids: frozenset[int] = frozenset()
    """Roles whose members may start prompt sessions (besides the moderators)."""
    votes_per_member: int = 3
    """Entries one member may vote for in a prompt session."""
    sources: Mapping[Setting, Source] = field(default_factory=dict)

    def source(self, setting: Setting) -> Source:
        return self.sources.get(setting, Source.DEFAULT)

    def value(self, setting: Setting) -> Any:
        return getattr(self, SPECS[setting].attribute)
