"""Property tests: every renderer, fed any job the bot could hold (any prompt, any RunComfy
reason, link, id or error text), builds a message within Discord's limits (the final
messages, Components V2 cards, in test_card_properties)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord_ui.audit import audit_text
from bot.discord_ui.job_lookup import job_choice
from bot.discord_ui.panels import mine_embed, queue_embed, settings_embed, usage_embed
from bot.discord_ui.queue_view import cancel_option
from bot.discord_ui.render import status_embed
from bot.discord_ui.stranded import stranded_note
from bot.jobs.model import Failure, Job, JobOrigin, JobState, NoticeState
from bot.jobs.usage import Usage
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import (
    KlingRequest,
    ShotType,
)
from bot.server_settings import ServerSettings
from tests.bot.discord_ui.discord_limits import (
    CHOICE_NAME,
    OPTION_TEXT,
    assert_content_fits,
    assert_embed_fits,
)

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
snowflakes = st.integers(min_value=1, max_value=2**63 - 1)
languages = st.sampled_from(["en", "de"])
any_text = st.text(max_size=3000)
long_text = st.one_of(any_text, st.text(alphabet="*_`>|\\@#<:\n ", max_size=3000))
links = st.one_of(
    st.none(),
    any_text,
    st.text(alphabet="abc/?=&%-_.", max_size=2500).map(
        lambda path: f"https://cdn.example.com/{path}"
    ),
)


valid_prompts = st.one_of(
    st.text(max_size=2499), st.text(alphabet="*_`~\n#<@>\\", max_size=2499)
).map(lambda text: "x" + text)
"""Always accepted (a visible first letter, at most 2,500 characters), markdown-heavy too."""


@st.composite
def requests(draw: st.DrawFn) -> KlingRequest:
    """Any request `KlingRequest.parse` accepts, long and markdown-heavy ones included."""
    shots = draw(st.one_of(st.none(), st.lists(valid_prompts, min_size=2, max_size=5)))
    return KlingRequest.parse(
        prompt=draw(valid_prompts),
        negative_prompt=draw(st.one_of(st.none(), valid_prompts)),
        duration=3 * len(shots) if shots else draw(st.integers(3, 15)),
        shot_type=ShotType.CUSTOMIZE if shots else None,
        multi_prompt=[{"prompt": text, "duration": 3} for text in shots] if shots else None,
    )


@st.composite
def jobs(draw: st.DrawFn) -> Job:
    state = draw(st.sampled_from(JobState))
    at = draw(st.floats(0, 4e9))
    return Job(
        id=draw(snowflakes),
        state=state,
        request=draw(requests()),
        origin=JobOrigin(
            requester_id=draw(snowflakes), channel_id=draw(snowflakes), guild_id=draw(snowflakes)
        ),
        created_at=at,
        updated_at=at,
        estimated_cost=Decimal(draw(st.integers(0, 10**6))) / 100,
        state_times={state: at + draw(st.floats(0, 1e6))},
        request_id=draw(st.one_of(st.none(), any_text)),
        queue_position=draw(st.one_of(st.none(), st.integers(0, 10**9))),
        output_url=draw(links),
        cost=draw(st.one_of(st.none(), st.decimals(0, 10**6, places=2))),
        failure=draw(st.one_of(st.none(), st.sampled_from(Failure))),
        failure_detail=draw(st.one_of(st.none(), long_text)),
        notice=draw(st.sampled_from(NoticeState)),
        notice_error=draw(st.one_of(st.none(), long_text)),
        cancelled_by=draw(st.one_of(st.none(), snowflakes)),
        parent_id=draw(st.one_of(st.none(), snowflakes)),
        deleted_by=draw(st.sampled_from([None, 2**63 - 1])),
    )


@FAST
@given(jobs(), st.one_of(st.none(), st.integers(1, 10**9)))
def test_status_embed_fits(job: Job, place: int | None) -> None:
    assert_embed_fits(status_embed(job, pricing=Pricing(), place_in_line=place))


@FAST
@given(jobs(), snowflakes, st.sampled_from(["cancelled", "deleted"]))
def test_audit_line_fits(job: Job, actor: int, action: str) -> None:
    assert_content_fits(audit_text(actor, action, job, job.created_at))


@FAST
@given(st.lists(jobs(), max_size=10), st.lists(jobs(), max_size=10))
def test_mine_panel_fits(found: list[Job], left_behind: list[Job]) -> None:
    assert_embed_fits(mine_embed(found))
    assert_embed_fits(mine_embed(found, left_behind=left_behind))


@FAST
@given(jobs(), st.sampled_from([Failure.SERVER_LEFT, Failure.CHANNEL_GONE]), languages)
def test_a_stranded_video_note_fits(job: Job, failure: Failure, language: str) -> None:
    assert_content_fits(stranded_note(replace(job, failure=failure, locale=language)))


@FAST
@given(st.lists(jobs(), max_size=25), st.integers(0, 2))
def test_queue_page_and_its_menu_fit(found: list[Job], page: int) -> None:
    assert_embed_fits(queue_embed(found, page=page, now=5e9, place_in_line=lambda _: 10**9))
    for job in found:
        option = cancel_option(job)
        assert 0 < len(option.label) <= OPTION_TEXT
        assert option.description is not None
        assert len(option.description) <= OPTION_TEXT


@FAST
@given(jobs())
def test_autocomplete_choice_fits(job: Job) -> None:
    assert 0 < len(job_choice(job).name) <= CHOICE_NAME


@FAST
@given(
    st.frozensets(snowflakes, max_size=300),
    st.frozensets(snowflakes, max_size=300),
    st.one_of(st.none(), snowflakes),
)
def test_settings_panel_fits(
    roles: frozenset[int], channels: frozenset[int], audit: int | None
) -> None:
    server = ServerSettings(
        moderator_role_ids=roles,
        channel_ids=channels,
        daily_seconds_per_user=86_400,
        daily_budget_usd=Decimal("100000.00"),
        audit_channel_id=audit,
    )
    assert_embed_fits(settings_embed(server))


usages = st.builds(
    Usage,
    videos=st.integers(0, 10**9),
    seconds=st.integers(0, 10**12),
    dollars=st.decimals(0, 10**9, places=2),
)


@FAST
@given(usages, usages, usages, usages, st.one_of(st.none(), st.integers(3, 86_400)))
def test_usage_panel_fits(a: Usage, b: Usage, c: Usage, d: Usage, quota: int | None) -> None:
    server = ServerSettings(daily_seconds_per_user=quota, daily_budget_usd=Decimal("100000"))
    embed = usage_embed(mine_today=a, mine_month=b, server_today=c, server_month=d, settings=server)
    assert_embed_fits(embed)
