"""The README and docs/ link only to files and headings that exist, and their tables
are whole (a blank line inside a table silently ends it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_local_link_points_at_something_that_exists(document: Path) -> None:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.DOTALL)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        path = (document.parent / file_part).resolve() if file_part else document
        if not path.exists() or (path.suffix == ".md" and anchor and anchor not in anchors(path)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_tables_have_a_header_row(document: Path) -> None:
    """A table row after a blank line with no header of its own renders as plain text."""
    lines = re.sub(r"```.*?```", "", document.read_text(), flags=re.DOTALL).splitlines()
    headless = []
    for index, line in enumerate(lines):
        row = line.startswith("|") and line.rstrip().endswith("|")
        starts_table = row and (index == 0 or not lines[index - 1].startswith("|"))
        if starts_table:
            separator = lines[index + 1] if index + 1 < len(lines) else ""
            if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", separator.strip()):
                headless.append(f"line {index + 1}: {line[:60]}")
    assert headless == []
