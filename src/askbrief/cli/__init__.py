"""The command line: thin Typer commands over the engine (DESIGN.md lists them).

Readable text by default, the DESIGN.md records with --json. Every `AskbriefError` becomes a
one-line message on stderr and exit code 1; never a traceback.
"""

from askbrief.cli import writing, reading, timelines, serving  # noqa: F401, I001 - each registers its commands on `app`, in help order
from askbrief.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    import logging

    handler = logging.StreamHandler()  # warnings such as an unreadable date reach the person, one line each
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger = logging.getLogger("askbrief")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    app()
