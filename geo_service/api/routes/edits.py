"""/api/v1/pm/{reference} and /api/v1/objectifs: what staff maintain by hand, each readable at
the URL it is written to, with its version as ETag and If-Match required to write."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from geo_service.api.deps import SessionDep, SettingsDep
from geo_service.api.security import AdminActor, StaffActor
from geo_service.api.writes import commit_write, if_match, with_etag
from geo_service.db.enums import ETATS_DOE
from geo_service.edits import pm as pm_edits
from geo_service.edits import targets
from geo_service.edits.common import history

router = APIRouter(prefix="/api/v1", tags=["édition"])
PmRef = Annotated[str, Path(max_length=40, description="Référence du PM")]
TargetId = Annotated[int, Path(ge=1, le=2**62)]


class PmChange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    date_prevue: date | None = Field(None, description="Date prévue de la zone (quand ?)")
    doe_etat: str | None = Field(None, description=" / ".join(ETATS_DOE), max_length=20)


class TargetChange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target_date: date | None = None
    raccordables: StrictInt | None = Field(None, ge=0, le=10_000_000)
    source: str | None = Field(None, max_length=300)


class NewTarget(TargetChange):
    level: str = Field(max_length=20)
    code: str = Field(max_length=40)
    target_date: date
    raccordables: StrictInt = Field(ge=0, le=10_000_000)


@router.get("/pm/{reference}")
def get_pm(reference: PmRef, session: SessionDep, settings: SettingsDep) -> Any:
    """A PM's state, planned date, DOE state and version (public data)."""
    return with_etag(pm_edits.get_pm(session.connection(), settings.departement, reference))


@router.get("/pm/{reference}/historique")
def get_pm_history(
    reference: PmRef, session: SessionDep, actor: StaffActor
) -> list[dict[str, Any]]:
    pm_edits.get_pm(session.connection(), actor.territory, reference)
    return history(session.connection(), "pm", reference)


@router.patch("/pm/{reference}")
def patch_pm(
    reference: PmRef,
    body: PmChange,
    session: SessionDep,
    actor: StaffActor,
    version: Annotated[int, Depends(if_match)],
) -> Any:
    values = body.model_dump(exclude_unset=True)
    return with_etag(
        commit_write(
            session,
            lambda: pm_edits.update_pm(
                session.connection(), actor, reference, expected_version=version, values=values
            ),
        )
    )


@router.get("/objectifs")
def get_targets(session: SessionDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Contractual targets of logements raccordables (public)."""
    return targets.list_targets(session.connection(), settings.departement)


@router.post("/objectifs", status_code=201)
def post_target(body: NewTarget, session: SessionDep, actor: AdminActor) -> Any:
    values = body.model_dump()
    return with_etag(
        commit_write(session, lambda: targets.create_target(session.connection(), actor, values)),
        status_code=201,
    )


@router.get("/objectifs/{target_id}")
def get_target(target_id: TargetId, session: SessionDep, settings: SettingsDep) -> Any:
    return with_etag(targets.get_target(session.connection(), settings.departement, target_id))


@router.patch("/objectifs/{target_id}")
def patch_target(
    target_id: TargetId,
    body: TargetChange,
    session: SessionDep,
    actor: AdminActor,
    version: Annotated[int, Depends(if_match)],
) -> Any:
    values = body.model_dump(exclude_unset=True)
    return with_etag(
        commit_write(
            session,
            lambda: targets.update_target(
                session.connection(), actor, target_id, expected_version=version, values=values
            ),
        )
    )
