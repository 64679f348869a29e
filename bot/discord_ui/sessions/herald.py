"""What members see of a session, kept in step with it: the card in the channel, the
Vote buttons' counts in the gallery, and the recap, posted once.

Cards and counts are edits, queued in the channel outbox per message: a newer picture
replaces one still waiting, a picture already shown is never sent again, and each
channel (the thread is one of its own) is paced, so a thousand votes cost a trickle of
edits, not one each. The recap is searched for before it is posted (a copy posted
before a crash is found by its last line) and carries a nonce, so it is posted once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import discord

from bot.discord_ui.notices import message_text
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import jump_url, public_texts
from bot.discord_ui.sessions.cards import session_card
from bot.discord_ui.sessions.entry_card import decode_shown, entry_card
from bot.discord_ui.sessions.recap_card import marker, recap_card, recap_mentions
from bot.i18n import Texts, texts
from bot.jobs.ports import StoreError
from bot.jobs.tracker import JobTracker
from bot.server_settings import ServerSettings
from bot.sessions.model import Session, SessionState
from bot.sessions.ports import HeraldUnavailable, RecapPlace
from bot.sessions.service import Sessions
from bot.sessions.standings import Recap

log = logging.getLogger(__name__)

HISTORY_SEARCH_LIMIT = 100
ARCHIVED = 50083
"""Discord's code for an edit in an archived thread (a new message would unarchive it)."""


def session_texts(session: Session) -> Texts:
    return texts(session.locale)


def recap_nonce(session: Session, place: RecapPlace) -> str:
    """Per session and place, within Discord's 25 characters."""
    return f"kling-recap-{session.id}-{place.value[0]}"


class DiscordHerald:
    """The sessions' `Herald`, and the counts on the Vote buttons."""

    def __init__(
        self,
        client: discord.Client,
        outbox: ChannelOutbox,
        sessions: Sessions,
        tracker: JobTracker,
        settings_for: Callable[[int | None], ServerSettings],
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._sessions = sessions
        self._tracker = tracker
        self._settings_for = settings_for
        self._cards_shown: dict[int, str] = {}
        self._phases: dict[int, SessionState] = {}
        self._entries_shown: dict[int, tuple[int, bool]] = {}
        self.card_edits = 0
        self.entry_edits = 0

    # ------------------------------------------------------------------ the card

    def session_changed(self, session: Session) -> None:
        """Queue the card's edit: ahead of the channel's other edits when the session
        moved on (entries closed, the recap is out), behind them for a new count."""
        if session.card_message_id is None:
            return
        moved_on = self._phases.get(session.id) is not session.state
        self._phases[session.id] = session.state
        if session.state.is_final:
            del self._phases[session.id]
        self._outbox.edit(
            session.channel_id,
            session.card_message_id,
            lambda: self._edit_card(session.id),
            important=moved_on,
        )

    async def card(self, session: Session) -> tuple[discord.ui.LayoutView, str]:
        """The card, and what it was drawn from (a card drawn from the same is the same)."""
        stats = await self._sessions.stats(session.id)
        votes = self._settings_for(session.guild_id).votes_per_member
        view = session_card(session, stats, votes_per_member=votes, tr=session_texts(session))
        return view, repr((session.update(version=0), stats, votes))

    async def _edit_card(self, session_id: int) -> bool:
        """The card as the store says now; False when nothing had to be sent."""
        try:
            session = await self._sessions.get(session_id)
            if session is None or session.card_message_id is None:
                return False
            view, picture = await self.card(session)
        except StoreError as error:
            log.warning("session %d: card not refreshed (%s)", session_id, error)
            return False
        if self._cards_shown.get(session_id) == picture:
            return False
        channel = self._client.get_partial_messageable(
            session.channel_id, guild_id=session.guild_id
        )
        try:
            await channel.get_partial_message(session.card_message_id).edit(view=view)
        except discord.HTTPException as error:
            log.info("session %d: its card could not be edited (%s)", session_id, error)
            return True
        self.card_edits += 1
        if session.state.is_final:
            self._cards_shown.pop(session_id, None)
        else:
            self._cards_shown[session_id] = picture
        return True

    # ----------------------------------------------------------- vote counts

    def votes_changed(self, entry_id: int, thread_id: int, message_id: int) -> None:
        """An entry's count changed: its message shows the newest count, soon."""
        self._outbox.edit(thread_id, message_id, lambda: self._edit_entry(entry_id, message_id))

    async def votes_closed(self, session: Session) -> None:
        """Every entry's Vote button off (the count stays), queued in the thread."""
        if session.thread_id is None:
            return
        thread_id = session.thread_id
        for entry in await self._sessions.store.entries(session.id):
            job = await self._tracker.fetch(entry.entry_id)
            if entry.removed or job is None or job.notice_message_id is None:
                continue
            edit = functools.partial(self._edit_entry, entry.entry_id, job.notice_message_id)
            self._outbox.edit(thread_id, job.notice_message_id, edit)

    async def _edit_entry(self, entry_id: int, message_id: int) -> bool:
        try:
            entry = await self._sessions.store.entry(entry_id)
            job = await self._tracker.fetch(entry_id)
            session = None if entry is None else await self._sessions.get(entry.session_id)
            if entry is None or job is None or session is None or session.thread_id is None:
                return False
            votes = await self._sessions.store.entry_votes(entry_id)
        except StoreError as error:
            log.warning("entry %d: count not refreshed (%s)", entry_id, error)
            return False
        open_ = session.state.takes_votes and not entry.removed
        if self._entries_shown.get(message_id) == (votes, open_):
            return False
        card = entry_card(
            job,
            decode_shown(entry.video),
            theme=session.theme,
            votes=votes,
            open=open_,
            tr=public_texts(job),
        )
        edited = await self._edit_in_thread(session.thread_id, message_id, view=card)
        if not edited:
            return True
        self.entry_edits += 1
        if open_:
            self._entries_shown[message_id] = (votes, open_)
        else:
            self._entries_shown.pop(message_id, None)
        return True

    async def _edit_in_thread(self, thread_id: int, message_id: int, **fields: object) -> bool:
        """Edit a gallery message; an archived thread is opened again once (the bot owns
        it). False when the message cannot be edited."""
        partial = self._client.get_partial_messageable(thread_id).get_partial_message(message_id)
        for attempt in range(2):
            try:
                await partial.edit(**fields)  # type: ignore[arg-type]
                return True
            except discord.HTTPException as error:
                if error.code != ARCHIVED or attempt:
                    log.info("gallery message %d could not be edited (%s)", message_id, error)
                    return False
                await self._unarchive(thread_id)
        return False

    async def _unarchive(self, thread_id: int) -> None:
        try:
            thread = await self._client.fetch_channel(thread_id)
            if isinstance(thread, discord.Thread):
                await thread.edit(archived=False)
        except discord.HTTPException as error:
            log.info("the gallery %d could not be opened again (%s)", thread_id, error)

    # -------------------------------------------------------------- the recap

    async def post_recap(self, recap: Recap, place: RecapPlace) -> int | None:
        session = recap.session
        channel_id = session.channel_id if place is RecapPlace.CHANNEL else session.thread_id
        if channel_id is None:
            return None
        tr = session_texts(session)
        channel = self._client.get_partial_messageable(channel_id, guild_id=session.guild_id)
        try:
            earlier = await self._earlier_recap(channel, session, tr)
            if earlier is not None:
                log.info("session %d: its recap was already posted as %d", session.id, earlier)
                return earlier
            view = recap_card(recap, await self._links(recap), tr)
            mentions = recap_mentions(recap, ping=place is RecapPlace.CHANNEL)

            async def send() -> int:
                message = await channel.send(
                    view=view, allowed_mentions=mentions, nonce=recap_nonce(session, place)
                )
                return message.id

            return await self._outbox.send(channel_id, send, first=True)
        except (discord.NotFound, discord.Forbidden) as error:
            log.warning("session %d: no recap in %s (%s)", session.id, place.value, error)
            return None
        except (discord.HTTPException, OSError) as error:
            raise HeraldUnavailable(error) from error

    async def _earlier_recap(
        self, channel: discord.PartialMessageable, session: Session, tr: Texts
    ) -> int | None:
        me = self._client.user
        if me is None or session.card_message_id is None:
            return None
        wanted = marker(session.id, tr)
        async for message in channel.history(
            after=discord.Object(session.card_message_id), limit=HISTORY_SEARCH_LIMIT
        ):
            if message.author.id == me.id and wanted in message_text(message):
                return message.id
        return None

    async def _links(self, recap: Recap) -> dict[int, str]:
        """Where each placed entry's video is."""
        session = recap.session
        links: dict[int, str] = {}
        if session.thread_id is None:
            return links
        for standing in recap.podium:
            job = await self._tracker.fetch(standing.entry_id)
            if job is not None and job.notice_message_id is not None:
                links[standing.entry_id] = jump_url(
                    session.guild_id, session.thread_id, job.notice_message_id
                )
        return links

    def kept(self) -> dict[str, int]:
        return {
            "cards_shown": len(self._cards_shown),
            "entries_shown": len(self._entries_shown),
            "phases": len(self._phases),
        }
