"""One logging configuration for the CLI and the server."""

from __future__ import annotations

import logging

from rich.logging import RichHandler


def configure_logging(level: int | str = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(show_path=False, rich_tracebacks=False)],
        force=True,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
