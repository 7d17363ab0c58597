"""The buttons under an alert ("Why this?", "Not relevant"), dispatched by custom_id so they
outlive restarts; a click reaches whatever the client holds as its ``buttons``."""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord


class ButtonTarget(Protocol):
    """What a click is handed to (the adapter's inbound side)."""

    async def on_why(self, interaction: discord.Interaction, story_key: str) -> None: ...

    async def on_not_relevant(self, interaction: discord.Interaction, story_key: str) -> None: ...


@runtime_checkable
class ButtonClient(Protocol):
    """A discord.Client that knows where clicks go."""

    buttons: ButtonTarget


def _target(interaction: discord.Interaction) -> ButtonTarget:
    client = interaction.client
    if not isinstance(client, ButtonClient):
        raise RuntimeError("a newsbot button reached a client that is not NewsClient")
    return client.buttons


class WhyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"newsbot:why:(?P<key>[\w-]+)"
):
    """The "Why this?" button: the matcher's evidence for the story, only to the clicker."""

    def __init__(self, story_key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Why this?",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:why:{story_key}",
            )
        )
        self.story_key = story_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> WhyButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _target(interaction).on_why(interaction, self.story_key)


class NotRelevantButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"newsbot:nr:(?P<key>[\w-]+)"
):
    """The "Not relevant" button: stores the reader's verdict for threshold tuning."""

    def __init__(self, story_key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Not relevant",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:nr:{story_key}",
            )
        )
        self.story_key = story_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NotRelevantButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _target(interaction).on_not_relevant(interaction, self.story_key)


def story_view(story_key: str) -> discord.ui.View:
    """The two buttons under an alert; dispatched by custom_id, so they outlive restarts."""
    view = discord.ui.View(timeout=None)
    view.add_item(WhyButton(story_key))
    view.add_item(NotRelevantButton(story_key))
    return view
