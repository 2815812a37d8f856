"""Storage: SQLite through aiosqlite, numbered migrations, one repository module per concept."""
