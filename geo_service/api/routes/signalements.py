"""/api/v1/signalements: citizens report a forgotten address (anonymous, bounded, rate-limited);
staff follow it up; élus read their area's reports; the public sees counts per commune only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from geo_service.analysis import signalements
from geo_service.analysis.signalements import ADDRESS_MAX, ANSWER_MAX, CONTACT_MAX, DESCRIPTION_MAX
from geo_service.api.deps import SessionDep, SettingsDep
from geo_service.api.security import SignedInActor, StaffActor, area_insees, check_area, rate_limit
from geo_service.api.writes import commit_write, if_match, with_etag
from geo_service.db.enums import STATUTS_SIGNALEMENT

router = APIRouter(prefix="/api/v1/signalements", tags=["signalements"])
ReportId = Annotated[int, Path(ge=1, le=2**62, description="Numéro du signalement")]


class NewReport(BaseModel):
    model_config = ConfigDict(extra="ignore")
    adresse: str = Field(description="Adresse oubliée", min_length=5, max_length=ADDRESS_MAX)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    contact: str | None = Field(
        None, description="Pour vous répondre ; jamais publié", max_length=CONTACT_MAX
    )
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class ReportChange(BaseModel):
    """Fields staff may change (the author comes from the session or token, never from here)."""

    model_config = ConfigDict(extra="ignore")
    statut: str | None = Field(None, description=" → ".join(STATUTS_SIGNALEMENT), max_length=20)
    assigned_to: str | None = Field(None, description="Agent en charge", max_length=80)
    reponse: str | None = Field(None, description="Réponse à l'habitant", max_length=ANSWER_MAX)


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(rate_limit("5/minute;30/day", "signalements"))],
)
def post_report(body: NewReport, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    report = signalements.create(
        session.connection(), territory=settings.departement, **body.model_dump()
    )
    session.commit()
    return {
        "id": report["id"],
        "insee": report["insee"],
        "statut": report["statut"],
        "message": "Merci : votre signalement est enregistré et sera examiné par le syndicat.",
    }


@router.get("/comptes")
def get_counts(session: SessionDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Public: the number of reports per commune (nothing else about them)."""
    return signalements.counts_by_commune(session.connection(), territory=settings.departement)


@router.get("")
def get_reports(
    session: SessionDep,
    actor: SignedInActor,
    statut: Annotated[str | None, Query(max_length=20)] = None,
) -> list[dict[str, Any]]:
    """Reports of the territory (an élu: of their commune or EPCI), without contacts."""
    return signalements.listing(
        session.connection(),
        territory=actor.territory,
        statut=statut,
        insees=area_insees(session, actor),
    )


@router.get("/{report_id}")
def get_report(report_id: ReportId, session: SessionDep, actor: SignedInActor) -> Any:
    report = signalements.get(session.connection(), actor.territory, report_id)
    check_area(session, actor, [report["insee"]] if report["insee"] else ["?"])
    return with_etag(report)


@router.patch("/{report_id}")
def patch_report(
    report_id: ReportId,
    body: ReportChange,
    session: SessionDep,
    actor: StaffActor,
    version: Annotated[int, Depends(if_match)],
) -> Any:
    values = body.model_dump(exclude_unset=True)
    return with_etag(
        commit_write(
            session,
            lambda: signalements.update(
                session.connection(), actor, report_id, expected_version=version, values=values
            ),
        )
    )
