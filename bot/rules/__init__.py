"""Business rules as pure functions of data and a date: the report, progress, pace, quality,
attendance, the calendar, review, field problems, audiences and announcements.

They import only `db.models`, the report form definition and the standard library: no texts,
no Telegram, no database calls. A rule is read and tested without anything else.
"""
