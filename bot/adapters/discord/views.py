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


# What each button is called and says; its custom_id is "newsbot:<kind>:<story key>".
_LABELS = {"why": "Why this?", "nr": "Not relevant"}


class StoryButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"newsbot:(?P<kind>why|nr):(?P<key>[\w-]+)",
):
    """A button under an alert: "Why this?" (the matcher's evidence, only to the clicker) or
    "Not relevant" (the reader's verdict, stored for tuning)."""

    def __init__(self, kind: str, story_key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=_LABELS[kind],
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:{kind}:{story_key}",
            )
        )
        self.kind = kind
        self.story_key = story_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StoryButton:
        return cls(match["kind"], match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        target = _target(interaction)
        if self.kind == "why":
            await target.on_why(interaction, self.story_key)
        else:
            await target.on_not_relevant(interaction, self.story_key)


def story_view(story_key: str) -> discord.ui.View:
    """The two buttons under an alert; dispatched by custom_id, so they outlive restarts."""
    view = discord.ui.View(timeout=None)
    for kind in _LABELS:
        view.add_item(StoryButton(kind, story_key))
    return view
