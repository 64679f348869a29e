"""The policy's panels and answers stay within Discord's limits however many roles, terms
and blocks a server has, in English and German, and page through all of them."""

from __future__ import annotations

import pytest

from bot.discord_ui.panels import usage_embed
from bot.discord_ui.policy_gate import allowance_text, block_text
from bot.discord_ui.policy_panels import PagesView, chunks, policy_pages
from bot.i18n import texts
from bot.jobs.usage import Usage
from bot.policy.book import AddedTerm, PolicyRows, ServerPolicy
from bot.policy.members import REASON_MAX_CHARS, MemberBlock
from bot.policy.terms import TERM_MAX_CHARS, TERMS_PER_SERVER
from bot.policy.tiers import (
    TIERS_PER_SERVER,
    BeyondTier,
    RoleTier,
    allowance_for,
    base_allowance,
)
from bot.server_settings import ServerSettings
from tests.bot.discord_ui.discord_limits import assert_content_fits, assert_embed_fits

BIG_ID = 2**63 - 1


def full_policy() -> ServerPolicy:
    rows = PolicyRows(
        terms=[f"{n:03} " + "ẅ" * (TERM_MAX_CHARS - 4) for n in range(TERMS_PER_SERVER)],
        tiers={
            BIG_ID - n: RoleTier(BIG_ID - n, 86_400, 15, True, 100) for n in range(TIERS_PER_SERVER)
        },
        blocks={
            BIG_ID - n: MemberBlock(BIG_ID - n, 1e12, "*" * REASON_MAX_CHARS, 1, 0.0)
            for n in range(300)
        },
    )
    return ServerPolicy.of(rows)


@pytest.mark.parametrize("language", ["en", "de"])
async def test_every_page_fits_and_every_term_is_on_one(language: str) -> None:
    tr = texts(language)
    policy = full_policy()
    pages = policy_pages(policy, private=True, now=0.0, tr=tr)
    view = PagesView(pages, owner_id=1, tr=tr)
    for page in view.pages:
        assert_embed_fits(page)
    shown = "\n".join(page.description or "" for page in pages)
    assert all(f"{n:03} " in shown for n in range(TERMS_PER_SERVER))
    assert shown.count("<@&") == TIERS_PER_SERVER
    assert view.previous.disabled
    assert not view.next.disabled


async def test_members_who_do_not_moderate_see_only_how_many_terms() -> None:
    pages = policy_pages(full_policy(), private=False, now=0.0, tr=texts("en"))
    shown = "".join(str(page.to_dict()) for page in pages)
    assert "000 " not in shown
    assert "500 blocked terms (shown to moderators and server managers)" in shown


def test_chunks_keep_pages_within_the_limits() -> None:
    pages = chunks(["x" * 3000, "y" * 3000, *["z"] * 60])
    assert [len(page) for page in pages] == [1, 25, 25, 11]
    assert all(sum(len(line) + 1 for line in page) <= 3800 for page in pages)
    assert chunks([]) == []


@pytest.mark.parametrize("language", ["en", "de"])
def test_refusals_and_usage_fit(language: str) -> None:
    tr = texts(language)
    block = MemberBlock(1, 1e12, "x" * REASON_MAX_CHARS, blocked_by=2)
    assert_content_fits(block_text(block, tr))
    tiers = {n: RoleTier(n, None, 15, True, 100) for n in range(BIG_ID - 300, BIG_ID)}
    allowance = allowance_for(tiers, tiers, base_allowance(daily_seconds=None, jobs_at_once=2))
    assert_content_fits(allowance_text(allowance, tr))
    embed = usage_embed(
        mine_today=Usage(),
        mine_month=Usage(),
        server_today=Usage(),
        server_month=Usage(),
        settings=ServerSettings(daily_seconds_per_user=86_400),
        allowance=allowance,
        tr=tr,
    )
    assert_embed_fits(embed)


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_answer_to_a_term_has_its_words(language: str) -> None:
    catalog = texts(language).catalog.messages
    for added in AddedTerm:
        assert f"terms.{added}" in catalog
    for kind in BeyondTier:
        assert f"tier.beyond.{kind}" in catalog
