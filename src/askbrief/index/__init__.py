"""The index: one store contract (SQLite alone, or PostgreSQL shared) and its vector index."""
