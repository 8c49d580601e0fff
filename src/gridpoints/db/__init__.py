"""Database engine choice (SQLite or PostgreSQL), transactions and Piccolo glue."""
