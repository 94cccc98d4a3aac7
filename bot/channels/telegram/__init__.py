"""Telegram: every rule of the platform lives in this package.

- ``channel``: name, capabilities, limits, updates → InboundMessage, replies → sendMessage
- ``sender``: sends through the Bot API with python-telegram-bot
"""

NAME = "telegram"
