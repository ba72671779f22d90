"""Answering: the retrieved sentences read, ranked and verified, and the answer composed or declined."""
