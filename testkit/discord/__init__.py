"""A faithful fake Discord (REST + gateway on 127.0.0.1) for end-to-end tests with discord.py.

Start with ``FakeDiscord``; see its docstring. Nothing here reaches the network.
"""

from . import permissions
from .commands import SyncRecord
from .errors import DiscordHTTPError, FakeDiscordUsageError
from .fake import FakeDiscord
from .gateway import GatewaySession
from .interactions import FakeInteraction
from .mentions import Pings
from .records import (
    CallbackRecord,
    ErrorRecord,
    FakeAttachment,
    FakeMessage,
    MessageVersion,
    RequestRecord,
)
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, ThreadState

__all__ = [
    "CallbackRecord",
    "DiscordHTTPError",
    "ErrorRecord",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordUsageError",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "MessageVersion",
    "Pings",
    "RequestRecord",
    "SyncRecord",
    "ThreadState",
    "permissions",
]
