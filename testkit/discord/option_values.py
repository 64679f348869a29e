"""Values of a command option's type, as Discord reads them in command choices and in
autocomplete results: integers between -(2^53 - 1) and 2^53 - 1, numbers (doubles) between
-2^53 and 2^53 — what a JavaScript client can hold exactly."""

from __future__ import annotations

import math
from typing import Any

from .errors import FormErrors
from .form_checks import Path

STRING, INTEGER, NUMBER = 3, 4, 10
INTEGER_LIMIT = 2**53 - 1
NUMBER_LIMIT = 2**53


def check_number(form: FormErrors, value: Any, path: Path, kind: int) -> None:
    """An INTEGER or NUMBER option's value: its type, then its range."""
    integral = kind == INTEGER
    name = "int" if integral else "float"
    numeric = isinstance(value, int) or (not integral and isinstance(value, float))
    if isinstance(value, bool) or not numeric or not math.isfinite(value):
        form.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not {name}.')
        return
    limit = INTEGER_LIMIT if integral else NUMBER_LIMIT
    if value < -limit:
        message = f"{name} value should be greater than or equal to {-limit}."
        form.add(path, "NUMBER_TYPE_MIN", message)
    elif value > limit:
        form.add(path, "NUMBER_TYPE_MAX", f"{name} value should be less than or equal to {limit}.")
