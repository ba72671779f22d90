"""Ingest: files, pages and feed entries become documents, split into sentences and chunks,
embedded, their quotes and copies found; what the index stores comes from here."""
