"""Server-rendered pages for staff: sign-in and sign-out, and the console (/console): imports,
PM / RAD / signalement / target edits with their history, search, audit. Templates format;
the edit services decide (the same functions as the API)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from geo_service import audit
from geo_service.analysis import search as console_search
from geo_service.analysis import signalements
from geo_service.analysis.reference import territory_name
from geo_service.api.deps import SessionDep, SettingsDep
from geo_service.api.security import (
    AdminActor,
    CurrentActor,
    StaffActor,
    rate_limit,
    sign_in,
    sign_out,
)
from geo_service.auth import users
from geo_service.auth.actor import ROLE_LABELS, Actor
from geo_service.db.enums import STATUTS_SIGNALEMENT
from geo_service.edits import pm as pm_edits
from geo_service.edits import rad as rad_edits
from geo_service.edits import targets
from geo_service.edits.common import history
from geo_service.errors import (
    AuthenticationError,
    ConflictError,
    FieldValidationError,
    GeoServiceError,
    ImportRejectedError,
)
from geo_service.ingest import uploads

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=FsPath(__file__).resolve().parents[2] / "templates")
PARIS = ZoneInfo("Europe/Paris")
DOE_LABELS = {
    "NON_DU": "non dû",
    "A_DEPOSER": "à déposer",
    "DEPOSE": "déposé",
    "VALIDE": "validé",
    "REFUSE": "refusé",
}
RAD_LABELS = {
    "CANDIDAT": "candidat",
    "LISTE_AVENANT": "inscrit à l'avenant",
    "DEMANDE": "demandé",
    "CONSTRUIT": "construit",
}


def _datetime_fr(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def _changes(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = json.loads(value)
    return ", ".join(f"{k} = {'—' if v is None else v}" for k, v in dict(value).items())


TEMPLATES.env.filters["datetime_fr"] = _datetime_fr
TEMPLATES.env.filters["changes"] = _changes


def render(
    request: Request,
    name: str,
    *,
    actor: Actor | None,
    session: Any,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "title": title,
            "actor": actor,
            "role_label": ROLE_LABELS[actor.role] if actor else "",
            "csrftoken": request.scope["csrftoken"]() if "csrftoken" in request.scope else "",
            "territory_name": territory_name(session.connection(), actor.territory)
            if actor
            else None,
            **context,
        },
        status_code=status_code,
    )


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site (no scheme, no other host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:300]
    return None


def _home_of(actor: Actor) -> str:
    if actor.at_least("technicien"):
        return "/console"
    if actor.commune_insee:
        return f"/communes/{actor.commune_insee}"
    return f"/epci/{actor.epci_siren}"


# --- sign-in ---------------------------------------------------------------------------------


@router.get("/connexion", response_class=HTMLResponse)
def sign_in_form(
    request: Request, session: SessionDep, actor: CurrentActor, suivant: str | None = None
) -> Response:
    if actor is not None:
        return RedirectResponse(_safe_next(suivant) or _home_of(actor), status_code=303)
    return render(
        request,
        "connexion.html",
        actor=None,
        session=session,
        title="Connexion",
        suivant=_safe_next(suivant) or "",
        nom="",
        error=None,
    )


@router.post(
    "/connexion",
    response_class=HTMLResponse,
    dependencies=[Depends(rate_limit("20/minute", "connexion"))],
)
def sign_in_post(
    request: Request,
    session: SessionDep,
    nom: Annotated[str, Form(max_length=80)] = "",
    mot_de_passe: Annotated[str, Form(max_length=256)] = "",
    suivant: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        user = users.authenticate(session.connection(), nom, mot_de_passe)
    except AuthenticationError as exc:
        session.commit()  # the failure count
        return render(
            request,
            "connexion.html",
            actor=None,
            session=session,
            title="Connexion",
            suivant=_safe_next(suivant) or "",
            nom=nom,
            error=exc.message,
            status_code=401,
        )
    actor = users.actor_for(user, source="console")
    audit.record(
        session.connection(),
        actor,
        action="connexion",
        object_type="utilisateur",
        object_key=user["nom"],
    )
    session.commit()
    sign_in(request, user)
    return RedirectResponse(_safe_next(suivant) or _home_of(actor), status_code=303)


# Public on purpose (no authentication dependency): signing out clears only the caller's own
# session; the CSRF token is still required.
@router.post("/deconnexion")
def sign_out_post(request: Request) -> Response:
    """Public on purpose: it only clears the caller's own session (and, like every form post,
    needs the CSRF token, so no other site can sign a user out)."""
    sign_out(request)
    return RedirectResponse("/", status_code=303)


# --- console ---------------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def console_home(request: Request, session: SessionDep, actor: StaffActor) -> Response:
    open_reports = sum(
        1
        for r in signalements.listing(session.connection(), territory=actor.territory)
        if r["statut"] in ("NOUVEAU", "EN_COURS")
    )
    return render(
        request,
        "console/home.html",
        actor=actor,
        session=session,
        title="Console",
        open_reports=open_reports,
        q="",
    )


@router.get("/console/recherche", response_class=HTMLResponse)
def console_search_page(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    q: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    try:
        results = console_search.search(session.connection(), actor.territory, q)
    except GeoServiceError:
        results = []
    return render(
        request,
        "console/search.html",
        actor=actor,
        session=session,
        title="Recherche",
        q=q,
        results=results,
    )


def _import_page(
    request: Request,
    session: Any,
    actor: Actor,
    status_code: int = 200,
    *,
    refresh: bool = False,
    **context: Any,
) -> HTMLResponse:
    """The upload form and the journal; while an import runs (and no result is shown) the page
    reloads itself every 3 s, unless the user turned that off."""
    entries = uploads.journal_unless_locked(session.connection())
    running = entries is None or uploads.running(entries)  # locked: by an import that runs
    return render(
        request,
        "console/imports.html",
        actor=actor,
        session=session,
        title="Imports",
        kinds=uploads.KINDS,
        journal=entries,
        running=running,
        refresh=refresh and running,
        status_code=status_code,
        **{"result": None, "rejected": None, "problems": [], "kind": "ipe", **context},
    )


@router.get("/console/imports", response_class=HTMLResponse)
def console_imports(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    actualiser: Annotated[str, Query(max_length=3)] = "oui",
) -> Response:
    return _import_page(request, session, actor, refresh=actualiser != "non")


@router.post("/console/imports", response_class=HTMLResponse)
def console_import_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffActor,
    fichier: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=20)] = "ipe",
    date_: Annotated[str, Form(alias="date", max_length=10)] = "",
    skip_invalid: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        snapshot = date.fromisoformat(date_) if date_ else None
        name = uploads.safe_name(fichier.filename, kind)
        with uploads.stored_upload(
            fichier.file, name, max_bytes=settings.max_upload_mb << 20
        ) as path:
            result = uploads.run_upload(
                request.app.state.engine,
                kind,
                path,
                actor,
                snapshot_date=snapshot,
                skip_invalid=bool(skip_invalid),
            )
    except ImportRejectedError as exc:
        session.rollback()
        return _import_page(
            request,
            session,
            actor,
            status_code=422,
            rejected=exc.message,
            problems=exc.problems,
            kind=kind,
        )
    except (GeoServiceError, ValueError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, GeoServiceError) else "date invalide (AAAA-MM-JJ)."
        return _import_page(request, session, actor, status_code=400, rejected=message, kind=kind)
    session.rollback()  # see the import's own committed journal row
    return _import_page(request, session, actor, result=result, problems=result.problems, kind=kind)


def _form_values(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: ("" if obj.get(k) is None else str(obj[k])) for k in keys}


def _edit(session: Any, write: Any) -> tuple[dict[str, Any] | None, dict[str, str], str | None]:
    """Run a console write: (result, field errors, conflict message)."""
    try:
        result = write()
    except FieldValidationError as exc:
        session.rollback()
        return None, exc.fields, None
    except ConflictError as exc:
        session.commit()  # the refusal's audit row
        return None, {}, exc.message
    session.commit()
    return result, {}, None


def _edit_then_answer(
    session: Any,
    write: Callable[[], dict[str, Any]],
    *,
    saved_url: str,
    form: dict[str, Any],
    page: Callable[..., HTMLResponse],
) -> Response:
    """A console edit: back to the object's page marked saved, else the form again with the
    French reasons next to the fields (422) or the current state after a conflict (409)."""
    result, errors, conflict = _edit(session, write)
    if result is not None:
        return RedirectResponse(f"{saved_url}?enregistre=1", status_code=303)
    return page(
        form=None if conflict else form,
        errors=errors,
        conflict=conflict,
        status_code=409 if conflict else 422,
    )


Version = Annotated[int, Form(ge=0, le=2**31)]


@router.get("/console/pm/{reference}", response_class=HTMLResponse)
def console_pm(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    reference: Annotated[str, Path(max_length=40)],
    enregistre: bool = False,
) -> Response:
    pm = pm_edits.get_pm(session.connection(), actor.territory, reference)
    return _pm_page(request, session, actor, pm, saved=enregistre)


def _pm_page(
    request: Request,
    session: Any,
    actor: Actor,
    pm: dict[str, Any],
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    hits = console_search.search(session.connection(), actor.territory, pm["reference"])
    map_url = next((h["map_url"] for h in hits if h["kind"] == "PM"), "/technique")
    return render(
        request,
        "console/pm.html",
        actor=actor,
        session=session,
        title=f"PM {pm['reference']}",
        pm=pm,
        form=form or _form_values(pm, pm_edits.EDITABLE),
        errors=errors or {},
        conflict=conflict,
        saved=saved,
        history=history(session.connection(), "pm", pm["reference"]),
        doe_choices=list(DOE_LABELS.items()),
        map_url=map_url,
        status_code=status_code,
    )


@router.post("/console/pm/{reference}", response_class=HTMLResponse)
def console_pm_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    reference: Annotated[str, Path(max_length=40)],
    version: Version,
    date_prevue: Annotated[str, Form(max_length=40)] = "",
    doe_etat: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    form = {"date_prevue": date_prevue, "doe_etat": doe_etat}
    values = {"date_prevue": date_prevue or None, "doe_etat": doe_etat}
    return _edit_then_answer(
        session,
        lambda: pm_edits.update_pm(
            session.connection(), actor, reference, expected_version=version, values=values
        ),
        saved_url=f"/console/pm/{quote(reference, safe='')}",
        form=form,
        page=lambda **kw: _pm_page(
            request,
            session,
            actor,
            pm_edits.get_pm(session.connection(), actor.territory, reference),
            **kw,
        ),
    )


def _rad_page(
    request: Request,
    session: Any,
    actor: Actor,
    rad: dict[str, Any],
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    hits = console_search.search(session.connection(), actor.territory, rad["identifiant_immeuble"])
    map_url = next((h["map_url"] for h in hits if h["kind"] == "immeuble"), "/technique")
    return render(
        request,
        "console/rad.html",
        actor=actor,
        session=session,
        title=f"Immeuble {rad['identifiant_immeuble']}",
        rad=rad,
        form=form or _form_values(rad, rad_edits.FIELDS),
        errors=errors or {},
        conflict=conflict,
        saved=saved,
        history=history(session.connection(), "rad_procedure", rad["identifiant_immeuble"]),
        etape_choices=list(RAD_LABELS.items()),
        map_url=map_url,
        status_code=status_code,
    )


@router.get("/console/rad/{identifiant:path}", response_class=HTMLResponse)
def console_rad(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    identifiant: Annotated[str, Path(max_length=80)],
    enregistre: bool = False,
) -> Response:
    rad = rad_edits.get_rad(session.connection(), actor.territory, identifiant)
    return _rad_page(request, session, actor, rad, saved=enregistre)


@router.post("/console/rad/{identifiant:path}", response_class=HTMLResponse)
def console_rad_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    identifiant: Annotated[str, Path(max_length=80)],
    version: Version,
    etape: Annotated[str, Form(max_length=40)] = "",
    date_avenant: Annotated[str, Form(max_length=40)] = "",
    date_demande: Annotated[str, Form(max_length=40)] = "",
    date_construction: Annotated[str, Form(max_length=40)] = "",
    commentaire: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {
        "etape": etape,
        "date_avenant": date_avenant,
        "date_demande": date_demande,
        "date_construction": date_construction,
        "commentaire": commentaire,
    }
    values = {k: (v or None) for k, v in form.items()}
    return _edit_then_answer(
        session,
        lambda: rad_edits.set_rad_step(
            session.connection(), actor, identifiant, expected_version=version, values=values
        ),
        saved_url=f"/console/rad/{quote(identifiant, safe='')}",
        form=form,
        page=lambda **kw: _rad_page(
            request,
            session,
            actor,
            rad_edits.get_rad(session.connection(), actor.territory, identifiant),
            **kw,
        ),
    )


@router.get("/console/signalements", response_class=HTMLResponse)
def console_reports(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    statut: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    chosen = statut if statut in STATUTS_SIGNALEMENT else None
    reports = signalements.listing(session.connection(), territory=actor.territory, statut=chosen)
    return render(
        request,
        "console/signalements.html",
        actor=actor,
        session=session,
        title="Signalements",
        reports=reports,
        statuts=STATUTS_SIGNALEMENT,
        statut=chosen,
    )


def _report_page(
    request: Request,
    session: Any,
    actor: Actor,
    report_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    conn = session.connection()
    report = signalements.get(conn, actor.territory, report_id)
    hits = console_search.search(conn, actor.territory, str(report_id))
    return render(
        request,
        "console/signalement.html",
        actor=actor,
        session=session,
        title=f"Signalement n° {report_id}",
        report=report,
        contact=signalements.contact_of(conn, actor.territory, report_id),
        form=form or _form_values(report, ("statut", "assigned_to", "reponse")),
        errors=errors or {},
        conflict=conflict,
        saved=saved,
        history=history(conn, "signalement", str(report_id)),
        statut_choices=[(s, s) for s in STATUTS_SIGNALEMENT],
        map_url=next((h["map_url"] for h in hits if h["kind"] == "signalement"), None),
        status_code=status_code,
    )


ReportId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/console/signalements/{report_id}", response_class=HTMLResponse)
def console_report(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    report_id: ReportId,
    enregistre: bool = False,
) -> Response:
    return _report_page(request, session, actor, report_id, saved=enregistre)


@router.post("/console/signalements/{report_id}", response_class=HTMLResponse)
def console_report_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    report_id: ReportId,
    version: Version,
    statut: Annotated[str, Form(max_length=40)] = "",
    assigned_to: Annotated[str, Form(max_length=200)] = "",
    reponse: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"statut": statut, "assigned_to": assigned_to, "reponse": reponse}
    values = {"statut": statut, "assigned_to": assigned_to or None, "reponse": reponse or None}
    return _edit_then_answer(
        session,
        lambda: signalements.update(
            session.connection(), actor, report_id, expected_version=version, values=values
        ),
        saved_url=f"/console/signalements/{report_id}",
        form=form,
        page=lambda **kw: _report_page(request, session, actor, report_id, **kw),
    )


@router.get("/console/objectifs", response_class=HTMLResponse)
def console_targets(
    request: Request, session: SessionDep, actor: StaffActor, enregistre: bool = False
) -> Response:
    return render(
        request,
        "console/objectifs.html",
        actor=actor,
        session=session,
        title="Objectifs contractuels",
        targets=targets.list_targets(session.connection(), actor.territory),
        editable=actor.at_least("admin"),
        errors={},
        conflict=None,
        saved=enregistre,
        edited=None,
    )


@router.post("/console/objectifs/{target_id}", response_class=HTMLResponse)
def console_target_post(
    request: Request,
    session: SessionDep,
    actor: AdminActor,
    target_id: Annotated[int, Path(ge=1, le=2**62)],
    version: Version,
    raccordables: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    result, errors, conflict = _edit(
        session,
        lambda: targets.update_target(
            session.connection(),
            actor,
            target_id,
            expected_version=version,
            values={"raccordables": raccordables},
        ),
    )
    if result is not None:
        return RedirectResponse("/console/objectifs?enregistre=1", status_code=303)
    return render(
        request,
        "console/objectifs.html",
        actor=actor,
        session=session,
        title="Objectifs contractuels",
        targets=targets.list_targets(session.connection(), actor.territory),
        editable=True,
        errors=errors,
        conflict=conflict,
        saved=False,
        edited=target_id,
        status_code=409 if conflict else 422,
    )


@router.get("/console/audit", response_class=HTMLResponse)
def console_audit(
    request: Request,
    session: SessionDep,
    actor: AdminActor,
    utilisateur: Annotated[str, Query(max_length=120)] = "",
    objet: Annotated[str, Query(max_length=40)] = "",
    cle: Annotated[str, Query(max_length=200)] = "",
    depuis: date | None = None,
    jusqu_au: date | None = None,
) -> Response:
    rows = audit.entries(
        session.connection(),
        territory=actor.territory,
        user=utilisateur or None,
        object_type=objet or None,
        object_key=cle or None,
        since=depuis,
        until=jusqu_au,
        limit=500,
    )
    return render(
        request,
        "console/audit.html",
        actor=actor,
        session=session,
        title="Journal d'audit",
        rows=rows,
        f={
            "utilisateur": utilisateur,
            "objet": objet,
            "cle": cle,
            "depuis": depuis,
            "jusqu_au": jusqu_au,
        },
    )
