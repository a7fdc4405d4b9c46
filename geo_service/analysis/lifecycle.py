"""Dated lifecycles (mobile site, WiFi borne, MED cabinet): the stages in order, each reached on
its date. One definition gives the rules enforced at import and edit (no stage skipped without a
date, no stage done in the future, dates in order) and the state as of any date, in Python and
in SQL, so that registers, API and maps agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Stage:
    state: str  # the state the object is in once the stage is reached (e.g. EN_SERVICE)
    field: str  # the column holding the date it was reached (e.g. date_mise_en_service)
    label: str  # French label for messages and pages


@dataclass(frozen=True)
class Lifecycle:
    """Stages in order; `optional` stages may be skipped (a pylon built without a carence step);
    `end` is the stage that may close the lifecycle at any point (abandon, retrait)."""

    stages: tuple[Stage, ...]
    optional: frozenset[str] = frozenset()
    end: Stage | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        extra = (self.end.field,) if self.end else ()
        return tuple(s.field for s in self.stages) + extra


def check(lifecycle: Lifecycle, row: Mapping[str, object], today: date) -> list[tuple[str, str]]:
    """The broken rules of one object, as (field, French reason); empty when it is valid."""
    problems: list[tuple[str, str]] = []
    last: tuple[Stage, date] | None = None
    missing: Stage | None = None
    for stage in lifecycle.stages:
        value = row.get(stage.field)
        if value is None:
            if stage.field not in lifecycle.optional and missing is None:
                missing = stage
            continue
        if not isinstance(value, date):
            problems.append((stage.field, "date attendue"))
            continue
        if value > today:
            problems.append(
                (stage.field, f"{stage.label} datée du {value:%d/%m/%Y}, dans le futur")
            )
        if missing is not None:
            problems.append(
                (
                    missing.field,
                    f"étape « {missing.label} » sans date alors que « {stage.label} » est datée",
                )
            )
            missing = None
        if last is not None and value < last[1]:
            problems.append(
                (
                    stage.field,
                    f"{stage.label} ({value:%d/%m/%Y}) avant {last[0].label} ({last[1]:%d/%m/%Y})",
                )
            )
        last = (stage, value)
    if lifecycle.end is not None:
        value = row.get(lifecycle.end.field)
        if isinstance(value, date):
            if value > today:
                problems.append((lifecycle.end.field, f"{lifecycle.end.label} datée dans le futur"))
            if last is not None and value < last[1]:
                problems.append(
                    (
                        lifecycle.end.field,
                        f"{lifecycle.end.label} ({value:%d/%m/%Y}) avant {last[0].label}",
                    )
                )
    return problems


def state_as_of(lifecycle: Lifecycle, row: Mapping[str, object], as_of: date) -> str | None:
    """The state on `as_of`: the ending stage if reached, else the last stage reached; None
    before the first one (the object did not exist yet)."""
    if lifecycle.end is not None:
        ended = row.get(lifecycle.end.field)
        if isinstance(ended, date) and ended <= as_of:
            return lifecycle.end.state
    state = None
    for stage in lifecycle.stages:
        value = row.get(stage.field)
        if isinstance(value, date) and value <= as_of:
            state = stage.state
    return state


def state_sql(lifecycle: Lifecycle, alias: str, as_of_param: str = "as_of") -> str:
    """The same rule as `state_as_of` as a SQL CASE on table alias `alias`, the date bound as
    `:<as_of_param>` (column names come from the lifecycle definition, never from input)."""
    whens: list[str] = []
    if lifecycle.end is not None:
        whens.append(
            f"WHEN {alias}.{lifecycle.end.field} <= :{as_of_param} THEN '{lifecycle.end.state}'"
        )
    for stage in reversed(lifecycle.stages):
        whens.append(f"WHEN {alias}.{stage.field} <= :{as_of_param} THEN '{stage.state}'")
    return "CASE " + " ".join(whens) + " END"
