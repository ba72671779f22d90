"""askbrief: answers and summaries over news articles, every sentence cited to its source."""

__version__ = "0.1.0"
