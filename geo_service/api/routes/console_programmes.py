"""Console pages to edit a mobile site, a WiFi borne or a MED cabinet (stage dates and the
syndicat's own fields), through the same edit service as the API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ConfigDict, create_model
from pydantic import Field as PydanticField

from geo_service.api.deps import SessionDep
from geo_service.api.routes.console import Version, _edit_then_answer, _form_values, render
from geo_service.api.security import StaffActor
from geo_service.auth.actor import Actor
from geo_service.edits import programmes as edits
from geo_service.edits.common import history

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[^\x00/]+$")]

LABELS = {
    "date_signalement": "Zone signalée le",
    "date_carence": "Carence confirmée le",
    "date_retenue": "Retenu par l'équipe-projet le",
    "date_arrete": "Arrêté publié le",
    "date_construction": "Construction commencée le",
    "date_mise_en_service": "Mise en service le",
    "date_abandon": "Abandonné le",
    "date_fin_iru": "Fin de l'IRU",
    "date_dernier_controle": "Dernier contrôle le",
    "renouvellement_iru": "Renouvellement de l'IRU",
    "opposition": "Opposition des riverains (note)",
    "proprietaire": "Propriétaire du support",
    "date_deliberation": "Délibération reçue le",
    "date_programmation": "Programmée le",
    "date_installation": "Installée le",
    "date_fin_contrat": "Fin du contrat",
    "date_retrait": "Retirée le",
    "contrat": "Contrat",
    "operateur": "Opérateur",
    "adresse": "Adresse",
    "rayon_m": "Rayon couvert (m)",
    "date_alimentation": "Extension électrique le",
    "date_enedis": "Branchement Enedis le",
    "date_reception_dalle": "Réception de dalle le",
    "date_pose_armoire": "Pose de l'armoire le",
    "date_recette": "Recette le",
    "date_reception_orange": "Réception Orange le",
    "date_ouverture": "Ouverture commerciale le",
    "cause_blocage": "Cause de blocage",
    "foyers": "Foyers desservis",
}


def _page(
    request: Request,
    session: Any,
    actor: Actor,
    kind: str,
    code: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    spec = edits.editable(kind)
    obj = edits.get_object(session.connection(), actor.territory, kind, code)
    return render(
        request,
        "console/programme.html",
        actor=actor,
        session=session,
        title=f"{spec.label} {obj['code']}",
        kind=kind,
        label=spec.label,
        obj=obj,
        dates=spec.dates,
        texts=spec.texts,
        integers=spec.integers,
        labels=LABELS,
        form=form or _form_values(obj, spec.fields),
        errors=errors or {},
        conflict=conflict,
        saved=saved,
        history=history(session.connection(), spec.table, obj["code"]),
        status_code=status_code,
    )


def console_programme(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    code: Code,
    enregistre: bool = False,
) -> Response:
    return _page(request, session, actor, _kind(request), code, saved=enregistre)


# Every field any of the three forms may post (each kind reads its own).
ProgrammeForm = create_model(
    "ProgrammeForm",
    __config__=ConfigDict(extra="ignore"),
    **{name: (str, PydanticField("", max_length=1000)) for name in LABELS},  # type: ignore[call-overload]
)


def console_programme_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    code: Code,
    version: Version,
    posted: Annotated[ProgrammeForm, Form()],  # type: ignore[valid-type]
) -> Response:
    """The form's fields of this kind only (an empty field clears the value)."""
    kind = _kind(request)
    spec = edits.editable(kind)
    form = {name: str(getattr(posted, name) or "") for name in spec.fields}
    values: dict[str, Any] = {name: (value.strip() or None) for name, value in form.items()}
    for name in spec.integers:
        if values[name] is None:
            values.pop(name)  # a number left empty keeps its value
    return _edit_then_answer(
        session,
        lambda: edits.update_object(
            session.connection(), actor, kind, code, expected_version=version, values=values
        ),
        saved_url=f"/console/{kind}/{quote(code, safe='')}",
        form=form,
        page=lambda **kw: _page(request, session, actor, kind, code, **kw),
    )


def _kind(request: Request) -> str:
    """The kind of object from the route's path (/console/<kind>/{code})."""
    return str(request.scope["route"].path.split("/")[2])


for _kind_name in edits.KINDS:
    router.add_api_route(
        f"/console/{_kind_name}/{{code}}",
        console_programme,
        methods=["GET"],
        response_class=HTMLResponse,
    )
    router.add_api_route(
        f"/console/{_kind_name}/{{code}}",
        console_programme_post,
        methods=["POST"],
        response_class=HTMLResponse,
    )
