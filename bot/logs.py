"""Logging, set up once for the whole process."""

from __future__ import annotations

import logging

import discord


def setup_logging(level: str) -> None:
    """discord.py's colourful handler on the root logger; its chatty HTTP logger quietened."""
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)
