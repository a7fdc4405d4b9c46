"""Rich rendering helpers shared by CLI commands (tables, rejection reports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

MAX_PROBLEMS_SHOWN = 50


def print_problems(console: Console, problems: Sequence[dict[str, Any]]) -> None:
    """The rejection report: file, line, column, value, reason."""
    table = Table(title=f"{len(problems)} problème(s)", show_lines=False)
    for header in ("fichier", "ligne", "colonne", "valeur", "motif"):
        table.add_column(header)
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        value = problem.get("value")
        table.add_row(
            str(problem.get("file", "")),
            str(problem.get("line", "")),
            str(problem.get("column") or ""),
            "" if value is None else str(value)[:60],
            str(problem.get("reason", "")),
        )
    console.print(table)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"… et {len(problems) - MAX_PROBLEMS_SHOWN} autres.")


def fr_int(value: int) -> str:
    """12 345 with a narrow no-break space, the French way."""
    return f"{value:,}".replace(",", "\u202f")


def cli_date(value: str | None) -> date | None:
    """A date typed on the command line (AAAA-MM-JJ), or a French usage error."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"date invalide « {value} » (attendu AAAA-MM-JJ)") from exc
