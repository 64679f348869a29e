"""Delivery in words: what `bot.media.delivery` only names (why there is no file, how a
re-encode is going), said from the catalogs in the reader's language."""

from __future__ import annotations

from typing import assert_never

from bot.i18n import Texts, english
from bot.media.delivery import DeliveryProgress, DeliveryStage, LinkReason, NoFile
from bot.media.limits import Breach, MediaLimit


def fitting_note(target: int, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr("media.fitting", size=tr.megabytes(target))


def progress_note(progress: DeliveryProgress, tr: Texts | None = None) -> str | None:
    """The status message's line for a re-encode; None once it is over."""
    tr = tr or english()
    match progress.stage:
        case DeliveryStage.WAITING_TO_FIT:
            return tr("media.waiting_to_fit")
        case DeliveryStage.FITTING:
            return fitting_note(progress.target_bytes, tr)
        case DeliveryStage.FIT_OVER:
            return None
        case _:
            assert_never(progress.stage)


def link_reason_text(reason: LinkReason, tr: Texts | None = None) -> str:
    """Why the video is posted as a link, without the final full stop."""
    tr = tr or english()
    match reason.kind:
        case NoFile.TOO_LARGE_TO_DOWNLOAD:
            assert reason.limit_bytes is not None
            assert reason.download_limit_bytes is not None
            known = f" ({tr.megabytes(reason.size_bytes)})" if reason.size_bytes else ""
            return tr(
                "media.too_large_to_download",
                known=known,
                limit=tr.megabytes(reason.limit_bytes),
                download=tr.megabytes(reason.download_limit_bytes),
            )
        case NoFile.DOWNLOAD_FAILED:
            return tr("media.download_failed")
        case NoFile.NOT_A_VIDEO:
            return tr("media.not_a_video")
        case NoFile.DAMAGED:
            return tr("media.damaged")
        case NoFile.UNREADABLE:
            return tr("media.unreadable")
        case NoFile.DOES_NOT_FIT:
            assert reason.limit_bytes is not None
            return tr("media.does_not_fit", size=tr.megabytes(reason.limit_bytes))
        case NoFile.FIT_TOO_SLOW:
            return tr("media.fit_too_slow")
        case NoFile.FIT_FAILED:
            return tr("media.fit_failed")
        case NoFile.COPY_GONE:
            return tr("media.copy_gone")
        case NoFile.BEYOND_LIMITS:
            return breach_text(reason.breach, tr)
        case _:
            assert_never(reason.kind)


def breach_text(breach: Breach | None, tr: Texts) -> str:
    """Which limit the file broke, with what it claimed and what the bot allows."""
    if breach is None:
        return tr("media.beyond_limits")
    if breach.limit is MediaLimit.MEMORY:
        return tr("media.beyond_limits.memory", allowed=tr.megabytes(breach.allowed))
    if breach.found is None:
        return tr("media.beyond_limits")
    found, allowed = breach.found, breach.allowed
    match breach.limit:
        case MediaLimit.BIT_RATE:
            found, allowed = -(-found // 1_000_000), allowed // 1_000_000
        case MediaLimit.PICTURE_AREA:
            return tr(
                "media.beyond_limits.picture_area",
                found=tr.decimal(found / 1_000_000),
                allowed=tr.decimal(allowed / 1_000_000),
            )
        case MediaLimit.HEADER:
            return tr(
                "media.beyond_limits.header",
                found=tr.megabytes(found),
                allowed=tr.megabytes(allowed),
            )
    return tr(
        f"media.beyond_limits.{breach.limit.value}",
        found=tr.integer(found),
        allowed=tr.integer(allowed),
    )
