"""What people read: the text catalogs, number and date formatting, digests, charts, message
splitting and exports. Builds on `bot.rules`; never talks to Telegram."""
