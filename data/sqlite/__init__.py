"""The embedded SQLite backend: dialect, database file, unit of work."""
