"""What one check found: passed, failed (with what to do), or not checked."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mark(StrEnum):
    PASSED = "✓"
    FAILED = "✗"
    NOT_CHECKED = "–"
    """An earlier check failed and this one needs it (the earlier line says what to do)."""


@dataclass(frozen=True, slots=True)
class Finding:
    mark: Mark
    what: str
    todo: str | None = None

    @classmethod
    def passed(cls, what: str) -> Finding:
        return cls(Mark.PASSED, what)

    @classmethod
    def failed(cls, what: str, todo: str) -> Finding:
        return cls(Mark.FAILED, what, todo)

    @classmethod
    def not_checked(cls, what: str, because: str) -> Finding:
        return cls(Mark.NOT_CHECKED, f"{what}: not checked ({because})")

    @property
    def ok(self) -> bool:
        return self.mark is Mark.PASSED

    def line(self) -> str:
        """One line: the mark, what was found, and for a failure what to do."""
        text = f"{self.mark} {self.what}"
        return f"{text} → {self.todo}" if self.todo else text
