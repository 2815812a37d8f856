"""Multi-step flows, one ConversationHandler per module."""
