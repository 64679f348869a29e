"""Small real videos, made once per test session (each takes a fraction of a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.media.delivery_rig import make_rig
from tests.bot.media.media_factory import make_audio_only, make_video

SECONDS = 2.0


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def noisy_with_sound(media_dir: Path) -> Path:
    """2 s, 320x240, 10 fps, ~5 Mbit/s of noise, with a sine-wave track."""
    return make_video(
        media_dir / "with_sound.mp4", seconds=SECONDS, width=320, height=240, audio=True
    )


@pytest.fixture(scope="session")
def noisy_silent(media_dir: Path) -> Path:
    """Like `noisy_with_sound` without sound, written with `moov` first."""
    return make_video(
        media_dir / "silent.mp4", seconds=SECONDS, width=320, height=240, faststart=True
    )


@pytest.fixture(scope="session")
def sound_only(media_dir: Path) -> Path:
    return make_audio_only(media_dir / "sound.m4a")


__all__ = ["make_rig"]  # the fixture, for every test here
