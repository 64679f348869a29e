"""The extensions are tested on the real bot, in the end-to-end world."""

from tests.e2e.conftest import make_world, no_errors_logged, world

__all__ = ["make_world", "no_errors_logged", "world"]
