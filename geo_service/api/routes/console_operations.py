"""Console pages of the operating registers (incidents, PM controls, abonnés, border
exchanges): list the entries, add one, correct one, delete one, with its history — through
geo_service.edits.operations, for staff only (identity from the session)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ConfigDict, create_model
from pydantic import Field as PydanticField

from geo_service.api.deps import SessionDep
from geo_service.api.routes.console import Version, _edit, _edit_then_answer, render
from geo_service.api.security import StaffActor
from geo_service.auth.actor import Actor
from geo_service.edits import operations as edits
from geo_service.edits.common import history
from geo_service.edits.operations_rules import ALL_FIELDS, RULES

router = APIRouter(include_in_schema=False)
Kind = Annotated[str, Path(max_length=30, pattern=r"^[a-z-]+$")]
EntryId = Annotated[int, Path(ge=1, le=2**62)]
BASE = "/console/exploitation"

# Every field any of the four forms may post (each register reads its own).
EntryForm = create_model(
    "EntryForm",
    __config__=ConfigDict(extra="ignore"),
    **{name: (str, PydanticField("", max_length=2000)) for name in ALL_FIELDS},  # type: ignore[call-overload]
)


def _posted(kind: str, posted: Any, *, keys: bool) -> dict[str, str]:
    """The posted fields of this register (its key fields only when adding an entry)."""
    spec = edits.rules(kind)
    return {f.name: str(getattr(posted, f.name) or "") for f in spec.fields if keys or not f.key}


@router.get(BASE, response_class=HTMLResponse)
def console_registers(request: Request, session: SessionDep, actor: StaffActor) -> Response:
    counts = {
        kind: edits.count_entries(session.connection(), actor.territory, kind) for kind in RULES
    }
    return render(
        request,
        "console/registres.html",
        actor=actor,
        session=session,
        title="Registres d'exploitation",
        registers=list(RULES.values()),
        counts=counts,
        limit=edits.LIST_LIMIT,
    )


@router.get(BASE + "/{kind}", response_class=HTMLResponse)
def console_register(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    kind: Kind,
    perimetre: Annotated[str, Query(max_length=3)] = "",
    supprime: bool = False,
) -> Response:
    spec = edits.rules(kind)
    chosen = perimetre if perimetre in (actor.territory, "dsp") else None
    return render(
        request,
        "console/registre.html",
        actor=actor,
        session=session,
        title=spec.label,
        spec=spec,
        entries=edits.list_entries(session.connection(), actor.territory, kind, perimetre=chosen),
        perimetre=chosen,
        limit=edits.LIST_LIMIT,
        deleted=supprime,
    )


def _entry_page(
    request: Request,
    session: Any,
    actor: Actor,
    kind: str,
    entry_id: int | None,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """The form of a new entry (`entry_id` None) or of an entry with its history."""
    spec = edits.rules(kind)
    conn = session.connection()
    entry = None if entry_id is None else edits.get_entry(conn, actor.territory, kind, entry_id)
    if form is None:
        form = spec.form(entry) if entry else {"perimetre": actor.territory}
    return render(
        request,
        "console/registre_entree.html",
        actor=actor,
        session=session,
        title=f"{spec.entry_label} n° {entry_id}" if entry else f"{spec.entry_label} : ajout",
        spec=spec,
        entry=entry,
        form=form,
        choices={f.name: f.choices(actor.territory) for f in spec.fields if f.choices},
        errors=errors or {},
        conflict=conflict,
        saved=saved,
        history=history(conn, spec.register.table, entry["cle"]) if entry else [],
        status_code=status_code,
    )


@router.get(BASE + "/{kind}/nouveau", response_class=HTMLResponse)
def console_new_entry(
    request: Request, session: SessionDep, actor: StaffActor, kind: Kind
) -> Response:
    return _entry_page(request, session, actor, kind, None)


@router.post(BASE + "/{kind}/nouveau", response_class=HTMLResponse)
def console_new_entry_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    kind: Kind,
    posted: Annotated[EntryForm, Form()],  # type: ignore[valid-type]
) -> Response:
    form = _posted(kind, posted, keys=True)
    result, errors, conflict = _edit(
        session, lambda: edits.create_entry(session.connection(), actor, kind, values=form)
    )
    if result is not None:
        return RedirectResponse(f"{BASE}/{kind}/{result['id']}?enregistre=1", status_code=303)
    return _entry_page(
        request, session, actor, kind, None, form=form, errors=errors, status_code=422
    )


@router.get(BASE + "/{kind}/{entry_id}", response_class=HTMLResponse)
def console_entry(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    kind: Kind,
    entry_id: EntryId,
    enregistre: bool = False,
) -> Response:
    return _entry_page(request, session, actor, kind, entry_id, saved=enregistre)


@router.post(BASE + "/{kind}/{entry_id}", response_class=HTMLResponse)
def console_entry_post(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    kind: Kind,
    entry_id: EntryId,
    version: Version,
    posted: Annotated[EntryForm, Form()],  # type: ignore[valid-type]
) -> Response:
    """A correction: the form's fields except the key (an empty field clears the value)."""
    values = _posted(kind, posted, keys=False)
    current = edits.get_entry(session.connection(), actor.territory, kind, entry_id)
    form = {**edits.rules(kind).form(current), **values}
    return _edit_then_answer(
        session,
        lambda: edits.update_entry(
            session.connection(), actor, kind, entry_id, expected_version=version, values=values
        ),
        saved_url=f"{BASE}/{kind}/{entry_id}",
        form=form,
        page=lambda **kw: _entry_page(request, session, actor, kind, entry_id, **kw),
    )


@router.post(BASE + "/{kind}/{entry_id}/suppression", response_class=HTMLResponse)
def console_entry_delete(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    kind: Kind,
    entry_id: EntryId,
    version: Version,
    confirmation: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Delete after the box « je confirme » was ticked (422 otherwise, nothing deleted)."""
    if confirmation != "oui":
        return _entry_page(
            request,
            session,
            actor,
            kind,
            entry_id,
            errors={"confirmation": "cochez la case pour confirmer la suppression"},
            status_code=422,
        )
    result, errors, conflict = _edit(
        session,
        lambda: edits.delete_entry(
            session.connection(), actor, kind, entry_id, expected_version=version
        ),
    )
    if result is not None:
        return RedirectResponse(f"{BASE}/{kind}?supprime=1", status_code=303)
    return _entry_page(
        request, session, actor, kind, entry_id, errors=errors, conflict=conflict, status_code=409
    )
