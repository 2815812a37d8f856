"""Storage: SQLite (aiosqlite) or PostgreSQL (asyncpg) behind one connection API, numbered
migrations per engine, one repository module per concept."""
