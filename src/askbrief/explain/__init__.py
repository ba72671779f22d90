"""Explain mode: what the stages decided, recorded in a trace as they ran, put into words."""
