"""Slack: ``adapter`` (lifecycle and the ChatAdapter calls), ``inbound`` (``/news`` and the alert
buttons into the CommandHandler), ``blocks`` (Block Kit rendering), ``errors`` (Slack's errors as
the core's delivery errors)."""
