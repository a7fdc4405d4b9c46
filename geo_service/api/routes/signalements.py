"""/api/v1/signalements: citizens report a forgotten address; staff follow it up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from geo_service.analysis import signalements
from geo_service.api.deps import ConnectionDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/signalements", tags=["signalements"])


class NewReport(BaseModel):
    adresse: str = Field(description="Adresse oubliée")
    description: str | None = None
    contact: str | None = Field(None, description="Pour vous répondre ; jamais publié")
    lat: float | None = None
    lon: float | None = None


class StatusChange(BaseModel):
    statut: str
    utilisateur: str


@router.post("", status_code=201)
def post_report(body: NewReport, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    report = signalements.create(
        session.connection(), territory=settings.departement, **body.model_dump()
    )
    session.commit()
    return {
        **report,
        "message": "Merci : votre signalement est enregistré et sera examiné par le syndicat.",
    }


@router.get("")
def get_reports(conn: ConnectionDep, statut: str | None = None) -> list[dict[str, Any]]:
    return signalements.listing(conn, statut=statut)


@router.patch("/{report_id}")
def patch_report(report_id: int, body: StatusChange, session: SessionDep) -> dict[str, Any]:
    report = signalements.update_status(
        session.connection(), report_id, statut=body.statut, user=body.utilisateur
    )
    session.commit()
    return report
