"""Who a message would ping, following Discord's allowed_mentions rules."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)")


@dataclass(frozen=True)
class Pings:
    """Notifications a message triggers: users, roles, and @everyone/@here."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    def ids(self, guild_id: int | None) -> set[int]:
        """Users and roles as ids; @everyone/@here as the @everyone role id (the guild id)."""
        found = set(self.users) | set(self.roles)
        if self.everyone and guild_id is not None:
            found.add(guild_id)
        return found


NO_PINGS = Pings()


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    can_mention_everyone: bool,
    mentionable_roles: Collection[int],
    guild_role_ids: Collection[int],
    replied_user_id: int | None,
) -> Pings:
    """Apply Discord's rules.

    Without ``allowed_mentions`` every mention in the content is parsed and a reply pings the
    replied-to author. With it, a user/role pings only if its kind is in ``parse`` or its id is
    in ``users``/``roles`` (the lists whitelist, they never add mentions absent from the
    content), @everyone needs ``"everyone"`` in ``parse``, and a reply pings only with
    ``replied_user: true``. Independently, @everyone/@here and non-mentionable roles need the
    author's Mention Everyone permission.
    """
    users_in_content = {int(m) for m in USER_MENTION.findall(content)}
    roles_in_content = {int(m) for m in ROLE_MENTION.findall(content)} & set(guild_role_ids)
    everyone_in_content = bool(EVERYONE_MENTION.search(content))

    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied = True
    else:
        parse = set(allowed_mentions.get("parse") or [])
        allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
        allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
        replied = bool(allowed_mentions.get("replied_user", False))

    users = users_in_content if "users" in parse else users_in_content & allowed_users
    roles = roles_in_content if "roles" in parse else roles_in_content & allowed_roles
    if not can_mention_everyone:
        roles &= set(mentionable_roles)
    if replied and replied_user_id is not None:
        users = users | {replied_user_id}
    everyone = everyone_in_content and "everyone" in parse and can_mention_everyone
    return Pings(frozenset(users), frozenset(roles), everyone)
