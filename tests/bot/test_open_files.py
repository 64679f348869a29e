"""The open files limit: raised towards the hard limit where allowed, never lowered."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator

import pytest

from bot.open_files import OpenFiles, raise_open_files

SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
HARD_LIMIT = None if HARD == resource.RLIM_INFINITY else HARD


@pytest.fixture
def lowered() -> Iterator[int]:
    """The soft limit lowered a little (a few more than are open now), put back after."""
    low = len(os.listdir("/proc/self/fd")) + 64 if os.path.isdir("/proc/self/fd") else 256
    if HARD_LIMIT is not None and low + 100 >= HARD_LIMIT:
        pytest.skip("the hard open files limit is too low to lower the soft one")
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, HARD))
    try:
        yield low
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (SOFT, HARD))


def test_the_soft_limit_is_raised_to_the_hard_one_or_the_ceiling(lowered: int) -> None:
    ceiling = lowered + 100
    files = raise_open_files(ceiling=ceiling)
    assert files == OpenFiles(soft=ceiling, hard=HARD_LIMIT, raised_from=lowered)
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (ceiling, HARD)
    assert files.describe().startswith(f"raised from {lowered} to {ceiling} (hard limit ")


def test_a_soft_limit_above_the_ceiling_is_left_alone(lowered: int) -> None:
    files = raise_open_files(ceiling=lowered - 10)
    assert files == OpenFiles(soft=lowered, hard=HARD_LIMIT)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == lowered


def test_a_system_that_refuses_leaves_the_limit_as_it_was(
    lowered: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(which: int, limits: tuple[int, int]) -> None:
        raise ValueError("not allowed to raise the current limit")

    monkeypatch.setattr(resource, "setrlimit", refuse)
    assert raise_open_files(ceiling=lowered + 100) == OpenFiles(soft=lowered, hard=HARD_LIMIT)


def test_the_description_names_both_limits() -> None:
    assert OpenFiles(soft=1024, hard=1024).describe() == "1024 (hard limit 1024)"
    assert OpenFiles(soft=65536, hard=None, raised_from=1024).describe() == (
        "raised from 1024 to 65536 (hard limit unlimited)"
    )
