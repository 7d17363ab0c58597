"""The platform-neutral core: feeds, matching, stories, summaries, delivery, commands."""
