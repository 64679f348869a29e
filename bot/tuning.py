"""How the bot's parts are tuned: the timings that are not user settings (tests and
benchmarks shorten them), and the tracker's settings and poll policy as the environment
settings say."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import PollMode, Settings
from bot.jobs.line import ServerLimits
from bot.jobs.polling import AdaptivePolling, FixedPolling, PollPolicy
from bot.jobs.tracker_settings import TrackerSettings


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings that are not user settings; tests and benchmarks shorten them."""

    status_refresh_interval: float = 2.0
    """Real seconds between two edits of a status message while its job is under way
    (the end is never held back), and how long the first picture and a state a job
    usually passes in a moment (being sent, posting the video) must stay the newest to
    be shown at all."""
    channel_edit_interval: float = 1.25
    """Seconds between two posts or edits in one channel (a delivery may go sooner, but
    never more than 4 in 4 intervals). Discord allows 5 per 5 s; at most 4 per window
    leaves the bucket never empty, so discord.py never has to wait."""
    guild_ready_timeout: float = 2.0
    """How long discord.py waits for more servers before `on_ready`."""
    interaction_reply_window: float = 13 * 60
    """Clock seconds a status message is edited through its interaction's webhook; Discord
    ends the token after 15 minutes, and calls with a dead token count towards its ban."""
    identify_interval: float = 5.0
    """Real seconds before each IDENTIFY after a process's first (a second shard, or a
    session Discord invalidated): Discord allows one per 5 s (`max_concurrency` 1)."""
    destination_trust: float = 30.0
    """Real seconds Discord's word that a server or channel is still there is trusted
    before a submit asks again (`DiscordDestinations`)."""


def poll_policy_for(settings: Settings) -> PollPolicy:
    if settings.jobs.poll_mode is PollMode.FIXED:
        return FixedPolling(settings.jobs.poll_interval_seconds)
    return AdaptivePolling()


def tracker_settings_for(settings: Settings) -> TrackerSettings:
    jobs = settings.jobs
    return TrackerSettings(
        limits=ServerLimits(
            per_user=settings.server_defaults.max_active_per_user,
            per_server=settings.server_defaults.max_active_per_server,
        ),
        max_active_total=jobs.max_active_total,
        max_waiting_per_user=jobs.max_waiting_per_user,
        deadline_seconds=jobs.deadline_seconds,
        shutdown_grace=settings.stop_grace_seconds,
        submit_timeout=settings.runcomfy.connect_timeout + settings.runcomfy.read_timeout,
    )
