"""DownloadFolder: unique paths per job, cleanup after use, leftovers cleared at start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.media.folder import DownloadFolder, discard, is_download_name


def names(folder: Path) -> list[str]:
    """What is in the folder, besides the subfolders processes work in."""
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith("process-"))


def test_downloads_go_to_a_subfolder_of_this_process_after_start_up(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    folder.clear_leftovers()
    path = folder.new_path(1)
    assert path.parent.parent == tmp_path
    assert path.parent.name.startswith("process-")


def test_processes_sharing_a_folder_leave_each_other_s_downloads_alone(tmp_path: Path) -> None:
    running = DownloadFolder(tmp_path)
    running.clear_leftovers()
    in_progress = running.new_path(1)
    in_progress.with_name(in_progress.name + ".part").write_bytes(b"half")
    finished = running.new_path(2)
    finished.write_bytes(b"video")

    assert DownloadFolder(tmp_path).clear_leftovers() == 0
    assert finished.exists()

    running.close()
    assert DownloadFolder(tmp_path).clear_leftovers() == 2
    assert not finished.parent.exists()


def test_clearing_creates_the_folder(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path / "data" / "downloads")
    assert folder.clear_leftovers() == 0
    assert folder.root.is_dir()


def test_paths_are_unique_and_inside_the_folder(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    first, second = folder.new_path(7), folder.new_path(7)
    assert first != second
    assert first.parent == tmp_path
    assert first.name.startswith("job-7-")
    assert first.suffix == ".mp4"
    assert folder.new_path(7, ".webm").suffix == ".webm"


@pytest.mark.parametrize("suffix", ["", "mp4", "/../x", ".mp4/..", ". mp4", ".toolongsuffix"])
def test_odd_suffixes_are_refused(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(ValueError, match="suffix"):
        DownloadFolder(tmp_path).new_path(1, suffix)


def test_negative_job_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="job_id"):
        DownloadFolder(tmp_path).new_path(-1)


def test_leftovers_from_a_previous_process_are_removed(tmp_path: Path) -> None:
    earlier = DownloadFolder(tmp_path)
    finished = earlier.new_path(1)
    finished.write_bytes(b"video")
    partial = earlier.new_path(2)
    partial.with_name(partial.name + ".part").write_bytes(b"half")
    other_kind = earlier.new_path(3, ".webm")
    other_kind.write_bytes(b"video")

    assert DownloadFolder(tmp_path).clear_leftovers() == 3
    assert names(tmp_path) == []


def test_files_the_folder_did_not_make_are_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bot.sqlite3").write_bytes(b"database")
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "job-1-abc.mp4").write_bytes(b"not our name")
    with caplog.at_level(logging.WARNING):
        assert DownloadFolder(tmp_path).clear_leftovers() == 0
    assert names(tmp_path) == ["bot.sqlite3", "job-1-abc.mp4", "notes.txt"]
    assert "bot.sqlite3" in caplog.text


def test_a_folder_with_a_download_name_is_left_alone(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    odd = folder.new_path(4)
    odd.mkdir()
    (odd / "inside").write_text("x")
    assert folder.clear_leftovers() == 0
    assert (odd / "inside").exists()


def test_a_symlink_is_removed_but_not_what_it_points_to(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "precious"
    target.write_text("keep")
    folder = DownloadFolder(tmp_path / "downloads")
    folder.root.mkdir()
    folder.new_path(5).symlink_to(target)
    assert folder.clear_leftovers() == 1
    assert names(folder.root) == []
    assert target.read_text() == "keep"


def test_file_for_removes_the_file_and_its_part_afterwards(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    with folder.file_for(9) as path:
        path.write_bytes(b"video")
        path.with_name(path.name + ".part").write_bytes(b"half")
        assert len(names(tmp_path)) == 2
    assert names(tmp_path) == []


def deliver_and_fail(folder: DownloadFolder) -> None:
    with folder.file_for(9) as path:
        path.write_bytes(b"video")
        raise RuntimeError("delivery failed")


def test_file_for_cleans_up_after_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        deliver_and_fail(DownloadFolder(tmp_path))
    assert names(tmp_path) == []


def test_file_for_without_any_file_is_fine(tmp_path: Path) -> None:
    with DownloadFolder(tmp_path).file_for(9):
        pass
    assert names(tmp_path) == []


def test_discard_tolerates_missing_files(tmp_path: Path) -> None:
    discard(tmp_path / "job-1-0123456789abcdef.mp4")


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("job-1-0123456789abcdef.mp4", True),
        ("job-1-0123456789abcdef.mp4.part", True),
        ("job-123-0123456789abcdef", True),
        ("job-1-0123456789abcdef.mp4.part.part", False),
        ("job-1-0123456789ABCDEF.mp4", False),
        ("job-x-0123456789abcdef.mp4", False),
        ("video-1.mp4", False),
        ("bot.sqlite3", False),
        (".part", False),
    ],
)
def test_download_names(name: str, ours: bool) -> None:
    assert is_download_name(name) is ours
