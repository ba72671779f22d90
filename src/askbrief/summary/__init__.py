"""Summaries: one paragraph of verbatim, cited sentences over chosen articles."""
