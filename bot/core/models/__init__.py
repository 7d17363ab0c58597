"""Plain values crossing the pipeline's stages: feeds, items, matches, stories, cards, chat refs.

The ground floor: these modules import nothing of ``bot`` but each other. Import the values from
here; each submodule holds one family.
"""

from bot.core.models.chat import (
    Attachment,
    ChannelRef,
    ChatSetup,
    Command,
    MessageRef,
    Reply,
    ReplyField,
    UserRef,
)
from bot.core.models.delivery import (
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    FollowUpStyle,
    Subscription,
)
from bot.core.models.feeds import (
    ArticleLead,
    Feed,
    FeedHealth,
    FeedListing,
    Item,
    Match,
    ParsedItem,
    SourceLink,
)
from bot.core.models.stories import (
    GroupingPlan,
    NewStory,
    Placement,
    StoryCard,
    StoryMaterial,
    StoryState,
    StoryUpdate,
)
from bot.core.models.views import (
    AuditEntry,
    FlaggedReport,
    FlaggedStory,
    ItemFate,
    ItemHit,
    StoredEvidence,
    StoryDetail,
    StoryView,
)

__all__ = [
    "ArticleLead",
    "Attachment",
    "AuditEntry",
    "ChannelRef",
    "ChatSetup",
    "Command",
    "DeliveryKind",
    "DeliveryMode",
    "DeliveryStatus",
    "Feed",
    "FeedHealth",
    "FeedListing",
    "FlaggedReport",
    "FlaggedStory",
    "FollowUpStyle",
    "GroupingPlan",
    "Item",
    "ItemFate",
    "ItemHit",
    "Match",
    "MessageRef",
    "NewStory",
    "ParsedItem",
    "Placement",
    "Reply",
    "ReplyField",
    "SourceLink",
    "StoredEvidence",
    "StoryCard",
    "StoryDetail",
    "StoryMaterial",
    "StoryState",
    "StoryUpdate",
    "StoryView",
    "Subscription",
    "UserRef",
]
