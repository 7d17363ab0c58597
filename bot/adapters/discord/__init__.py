"""Discord: ``adapter`` (the client's lifecycle and the ChatAdapter calls), ``inbound`` (slash
commands, autocomplete and clicks into the CommandHandler), ``tree`` (the `/news` command tree
from the core's specs), ``views`` (the buttons under an alert), ``embeds`` (rendering),
``errors`` (discord.py's failures as the core's delivery errors)."""
