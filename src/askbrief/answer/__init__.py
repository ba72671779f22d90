"""Answering: a question parsed, its passages retrieved, its sentences read, ranked and verified."""
