"""The one home of how numbers look to people."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import formatting


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("0.63", "$0.63"), ("0.125", "$0.13"), ("2", "$2.00"), ("1234.5", "$1234.50")],
)
def test_usd_rounds_half_up_to_cents(amount: str, shown: str) -> None:
    assert formatting.usd(Decimal(amount)) == shown


def test_megabytes_are_binary_with_one_decimal() -> None:
    assert formatting.megabytes(10 * 1024 * 1024) == "10.0 MB"
    assert formatting.megabytes(3_670_016) == "3.5 MB"


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0 s"), (40.4, "40 s"), (125, "2 min 5 s")])
def test_took(seconds: float, shown: str) -> None:
    assert formatting.took(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"), [(-3, "0 s"), (59, "59 s"), (720, "12 min"), (11_100, "3 h 5 min")]
)
def test_age(seconds: float, shown: str) -> None:
    assert formatting.age(seconds) == shown


def test_stopwatch() -> None:
    assert formatting.stopwatch(187.9) == "3:07"


def test_a_long_list_keeps_what_fits_and_counts_the_rest() -> None:
    items = [f"<#{n:018d}>" for n in range(200)]
    text = formatting.as_many_as_fit(
        items, separator=", ", limit=300, more=lambda hidden: f"and {hidden} more"
    )
    assert len(text) <= 300
    shown = text.count("<#")
    assert text.endswith(f"and {200 - shown} more")
    short = formatting.as_many_as_fit(["a", "b"], separator=", ", limit=10, more=str)
    assert short == "a, b"
