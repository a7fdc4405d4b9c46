"""/api/v1/exploitation: the operating registers. Aggregated figures are public (no personal
data: restoration delays, control progress, take-up per commune, border-exchange counts); the
lists of incidents, controls and border buildings, which name places, causes and addresses,
are for staff only. Each answer states its perimeter: the territory or the whole DSP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from geo_service.analysis import operations, take_up
from geo_service.api.deps import SessionDep, SettingsDep
from geo_service.api.security import StaffActor

router = APIRouter(prefix="/api/v1/exploitation", tags=["exploitation"])
Perimetre = Annotated[
    str | None,
    Query(
        max_length=3,
        pattern="^([0-9]{2,3}|2A|2B|dsp)$",
        description="« dsp » : chiffres du délégataire pour toute la DSP ; défaut : le territoire",
    ),
]
Annee = Annotated[int | None, Query(ge=2017, le=2100, description="Année (AAAA)")]
Au = Annotated[
    date | None, Query(description="Date de situation AAAA-MM-JJ (défaut : aujourd'hui)")
]
Estimation = Annotated[
    bool,
    Query(
        description="Pour un chiffre de toute la DSP : ajouter l'ESTIMATION de la part du "
        "territoire (proportionnelle à ses PM, hypothèse)"
    ),
]


@router.get("/incidents/delais")
def get_restoration_delays(
    session: SessionDep,
    settings: SettingsDep,
    perimetre: Perimetre = None,
    annee: Annee = None,
    au: Au = None,
    par: Literal["total", "categorie", "commune", "epci", "pm", "mois"] = "total",
    estimation_territoire: Estimation = False,
) -> dict[str, Any]:
    """Public: incidents, restored ones, share within the commitment and mean delay."""
    answer = operations.restoration_delays(
        session.connection(),
        territory=settings.departement,
        perimetre=perimetre,
        year=annee,
        as_of=au,
        by=par,
    )
    if estimation_territoire and answer["perimetre"] == "dsp":
        total = sum(line["incidents"] for line in answer["lignes"])
        answer["estimation"] = operations.territory_estimate(total, territory=settings.departement)
    return answer


@router.get("/incidents")
def get_incidents(
    session: SessionDep,
    actor: StaffActor,
    perimetre: Perimetre = None,
    annee: Annee = None,
    au: Au = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Staff: the incidents themselves, newest first."""
    return operations.list_incidents(
        session.connection(),
        territory=actor.territory,
        perimetre=perimetre,
        year=annee,
        as_of=au,
        limit=limit,
        offset=offset,
    )


@router.get("/controles/avancement")
def get_control_progress(
    session: SessionDep,
    settings: SettingsDep,
    campagne: Annotated[int, Query(ge=2017, le=2100, description="Année de la campagne")],
    perimetre: Perimetre = None,
    au: Au = None,
    estimation_territoire: Estimation = False,
) -> dict[str, Any]:
    """Public: PM controlled in the campaign, by result, against its objective."""
    answer = operations.control_progress(
        session.connection(),
        territory=settings.departement,
        campagne=campagne,
        perimetre=perimetre,
        as_of=au,
    )
    if estimation_territoire and answer["perimetre"] == "dsp":
        answer["estimation"] = operations.territory_estimate(
            answer["controles"], territory=settings.departement
        )
    return answer


@router.get("/controles")
def get_controls(
    session: SessionDep,
    actor: StaffActor,
    campagne: Annotated[int | None, Query(ge=2017, le=2100)] = None,
    perimetre: Perimetre = None,
) -> list[dict[str, Any]]:
    """Staff: the controls themselves, with their remarks."""
    return operations.list_controls(
        session.connection(), territory=actor.territory, campagne=campagne, perimetre=perimetre
    )


@router.get("/abonnes")
def get_take_up(
    session: SessionDep,
    settings: SettingsDep,
    perimetre: Perimetre = None,
    au: Au = None,
    maille: Literal["commune", "pm", "total"] = "commune",
) -> dict[str, Any]:
    """Public: abonnés, raccordables as of the same date and take-up rate per commune (or PM),
    with ARCEP's national rate."""
    return take_up.take_up(
        session.connection(),
        territory=settings.departement,
        as_of=au,
        perimetre=perimetre,
        maille=maille,
    )


@router.get("/abonnes/serie")
def get_take_up_series(
    session: SessionDep, settings: SettingsDep, perimetre: Perimetre = None
) -> dict[str, Any]:
    """Public: the take-up rate at every count of the délégataire."""
    return take_up.take_up_series(
        session.connection(), territory=settings.departement, perimetre=perimetre
    )


@router.get("/echanges-frontaliers")
def get_border_exchanges(
    session: SessionDep, settings: SettingsDep, au: Au = None
) -> dict[str, Any]:
    """Public: buildings served across the border, by neighbouring network."""
    return take_up.border_exchanges(session.connection(), territory=settings.departement, as_of=au)


@router.get("/echanges-frontaliers/immeubles")
def get_border_buildings(session: SessionDep, actor: StaffActor) -> list[dict[str, Any]]:
    """Staff: the buildings of the co-signed sheets, with their addresses and links."""
    return take_up.list_border_buildings(session.connection(), territory=actor.territory)
