"""Every message of a prompt session within Discord's limits, in English and German, with
the worst inputs a session can have: the longest theme full of markdown, the longest
prompt and link, 100 members tied for first, huge ids and sums. Components V2 layouts
are checked by the same rules the fake Discord enforces (40 components, 4,000
characters of text, where each component may stand)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import discord
import pytest

from bot.discord_ui.card_text import Shown
from bot.discord_ui.result_card import video_filename
from bot.discord_ui.sessions.ballot import vote_answer
from bot.discord_ui.sessions.cards import (
    leaderboard_embed,
    session_card,
    status_embed,
    thread_name,
)
from bot.discord_ui.sessions.entry_card import decode_shown, encode_shown, entry_card
from bot.discord_ui.sessions.gallery import entry_note
from bot.discord_ui.sessions.recap_card import recap_card, recap_mentions
from bot.i18n import texts
from bot.jobs.model import JobState
from bot.media.probe import MediaFacts
from bot.runcomfy.request import PROMPT_MAX_CHARS, KlingRequest
from bot.sessions.model import Entry, Session, SessionDraft, SessionState
from bot.sessions.rules import EntryRefusal, EntryRefused, VoteOutcome, VoteResult
from bot.sessions.service import SessionStats
from bot.sessions.standings import LeaderRow, recap_of
from bot.wording import entry_refusal
from testkit.discord.component_rules import check_components
from testkit.discord.component_types import BUTTON, TEXT_DISPLAY
from testkit.discord.errors import FormErrors
from testkit.discord.layout_rules import walk
from tests.bot.discord_ui.discord_limits import assert_content_fits, assert_embed_fits
from tests.bot.jobs.factories import make_job

LANGUAGES = ("en", "de")
BIG = 2**63 - 1
THEME = ("*_~`|>#" * 40)[:200]
PROMPT = ("a **fox** <@&1> @everyone " * 200)[:PROMPT_MAX_CHARS]
LINK = "https://cdn.example/" + "v" * 1470 + ".mp4"
STATS = SessionStats(
    entries=10**6,
    spent=Decimal("99999.99"),
    estimated=Decimal("99999.99"),
    pending=999,
    last_delivered=2e9,
)


def session(state: SessionState = SessionState.OPEN, **changes: Any) -> Session:
    draft = SessionDraft(
        guild_id=BIG,
        channel_id=BIG,
        host_id=BIG,
        theme=THEME,
        minutes=1440,
        vote_minutes=1440,
        entries_per_member=10,
        budget=Decimal("100000"),
    )
    base = draft.session(2e9).update(id=BIG, thread_id=BIG, card_message_id=BIG)
    return replace(base, state=state, **changes)


def assert_layout_fits(view: discord.ui.LayoutView, filenames: tuple[str, ...] = ()) -> None:
    form = FormErrors()
    check_components(form, view.to_components(), v2=True, filenames=filenames)
    assert not form, form.tree
    assert view.content_length() <= 4000


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", list(SessionState))
def test_the_card_and_status_fit_in_every_state(language: str, state: SessionState) -> None:
    tr = texts(language)
    worst = session(
        state,
        entries_closed_at=2e9,
        cancelled_by=BIG,
        recap_channel_message_id=BIG,
    )
    for stats in (STATS, SessionStats(0, Decimal(0), Decimal(0), 0, None)):
        assert_layout_fits(session_card(worst, stats, votes_per_member=25, tr=tr))
        embed = status_embed(worst, stats, mine=10, votes_used=25, votes_per_member=25, tr=tr)
        assert_embed_fits(embed)
    assert 1 <= len(thread_name(THEME)) <= 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_leaderboard_fits(language: str) -> None:
    rows = [LeaderRow(BIG - n, 10**9, 10**9, 10**12) for n in range(10)]
    assert_embed_fits(leaderboard_embed(rows, texts(language)))
    assert_embed_fits(leaderboard_embed([], texts(language)))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tied", [1, 3, 100, 500])
def test_the_recap_fits_with_many_tied_winners(language: str, tied: int) -> None:
    entries = [Entry(BIG - n, BIG, BIG - n, "{}", 1.0) for n in range(tied + 20)]
    counts = {entry.entry_id: 10**6 for entry in entries[:tied]}
    recap = recap_of(session(SessionState.RECAP), entries, counts, 10**6, [])
    assert len(recap.winners) == tied
    links = {entry.entry_id: f"https://discord.com/channels/{BIG}/{BIG}/{BIG}" for entry in entries}
    view = recap_card(recap, links, texts(language))
    assert_layout_fits(view)
    mentions = recap_mentions(recap, ping=True).to_dict()
    assert len(mentions["users"]) == min(tied, 100)
    assert recap_mentions(recap, ping=False).to_dict()["users"] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_recap_without_votes_fits(language: str) -> None:
    entries = [Entry(n, 1, n, "{}", 1.0) for n in range(1, 4)]
    recap = recap_of(session(SessionState.RECAP), entries, {}, 0, [])
    assert_layout_fits(recap_card(recap, {}, texts(language)))


FACTS = MediaFacts(
    duration_seconds=15.0,
    width=3840,
    height=2160,
    frame_rate=60.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=10**12,
    bitrate=10**9,
    fitted_from_bytes=10**12,
)
VIDEOS = [
    Shown(FACTS, attached=True),
    Shown(FACTS, attached=True, fitted_from=10**12),
    Shown(FACTS, attached=False, link_reason="x" * 300),
    Shown(None, attached=False),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("shown", VIDEOS)
@pytest.mark.parametrize("open_", [True, False])
def test_the_entry_card_fits_and_survives_the_store(
    language: str, shown: Shown, open_: bool
) -> None:
    tr = texts(language)
    job = make_job(
        BIG,
        state=JobState.COMPLETED,
        request=KlingRequest(prompt=PROMPT, duration=15),
        output_url=LINK,
        cost=Decimal("99999.99"),
        requester_id=BIG,
        locale=language,
        session_id=BIG,
    )
    card = entry_card(job, shown, theme=THEME, votes=10**9, open=open_, tr=tr)
    assert_layout_fits(card, (video_filename(job),) if shown.attached else ())
    components = list(walk(card.to_components()))
    text = "\n".join(str(c["content"]) for c in components if c["type"] == TEXT_DISPLAY)
    assert f"<@{BIG}>" in text, "the requester is mentioned"
    assert f"**#{BIG}**" in text, "the entry is found again by its number"
    assert "Winter" not in text
    buttons = [c for c in components if c["type"] == BUTTON]
    [vote] = [b for b in buttons if b.get("custom_id") == f"session:vote:{BIG}"]
    assert bool(vote.get("disabled")) is (not open_)
    assert len(buttons) <= 5, "one row"
    assert decode_shown(encode_shown(shown)) == shown


def test_an_entry_kept_by_another_version_is_still_drawn() -> None:
    assert decode_shown('{"attached": true, "facts": {"width": 1}}').facts is None
    kept = decode_shown('{"attached": false, "facts": null, "link_reason": "gone"}')
    assert kept == Shown(None, attached=False, link_reason="gone")


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_and_answers_fit(language: str) -> None:
    tr = texts(language)
    for refusal in (
        EntryRefused(EntryRefusal.CLOSED, theme=THEME),
        EntryRefused(EntryRefusal.TOO_MANY, theme=THEME, entered=10, allowed=10),
        EntryRefused(
            EntryRefusal.OVER_BUDGET,
            theme=THEME,
            estimate=Decimal("99999.99"),
            left=Decimal("0.01"),
            budget=Decimal("100000"),
        ),
    ):
        text = tr("desk.refused", reason=entry_refusal(refusal, tr))
        assert_content_fits(text)
    for outcome in VoteOutcome:
        assert_content_fits(vote_answer(VoteResult(outcome, BIG, BIG, 10**9, 25, 25), tr))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_status_cards_entry_line_fits_a_field(language: str) -> None:
    tr = texts(language)
    job = make_job(BIG, state=JobState.DELIVERED, session_id=BIG, notice_message_id=BIG)
    for shown in (session(), None):
        note = entry_note(job, shown, tr)
        assert note is not None
        assert len(note) <= 1024
    assert entry_note(make_job(1), session(), tr) is None
