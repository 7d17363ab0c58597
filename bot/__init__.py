"""newsbot: follow-ups on US–India defence ties, grouped into stories, posted to chat."""

__version__ = "0.1.0"
