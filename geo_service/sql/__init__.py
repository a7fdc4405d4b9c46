"""Longer SQL kept as files (one source of truth), split into named statements."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources


@cache
def statements(name: str) -> dict[str, str]:
    """The named statements of `sql/<name>.sql` (blocks starting with `-- name: x`)."""
    source = resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
    result: dict[str, str] = {}
    for block in re.split(r"(?m)^-- ;$", source):
        lines = block.strip().splitlines()
        key = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("-- name:")), None)
        if key:
            result[key] = "\n".join(ln for ln in lines if not ln.startswith("--"))
    return result
