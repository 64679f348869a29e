"""Pointing the real discord.py at the fake (its REST base, gateway URL and CDN base)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import discord
import discord.gateway
import discord.http
import yarl


class MonkeyPatch(Protocol):
    def setattr(self, target: object, name: str, value: object) -> None: ...


def targets(api_base: str, gateway_url: str, cdn_base: str) -> list[tuple[object, str, object]]:
    """discord.py reads these class attributes per request/connection, so patching them is
    enough (webhooks and interaction callbacks also build URLs from ``Route.BASE``)."""
    return [
        (discord.http.Route, "BASE", api_base),
        (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(gateway_url)),
        (discord.Asset, "BASE", cdn_base),
    ]


def patch_with(monkeypatch: MonkeyPatch, api_base: str, gateway_url: str, cdn_base: str) -> None:
    for owner, name, value in targets(api_base, gateway_url, cdn_base):
        monkeypatch.setattr(owner, name, value)


@contextmanager
def patched(api_base: str, gateway_url: str, cdn_base: str) -> Iterator[None]:
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets("", "x:", "")]
    try:
        for owner, name, value in targets(api_base, gateway_url, cdn_base):
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
