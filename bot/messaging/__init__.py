"""Telegram I/O: replies to the update in hand, the rate-limited sender, the announcement
outbox, per-chat concurrency, conversation persistence, problem alerts and the keyboards."""
