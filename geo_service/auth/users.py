"""Accounts: create, list, disable, passwords (Argon2id), API tokens (stored as SHA-256), and
the checks behind sign-in (lockout after repeated failures)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.auth.passwords import hash_password, verify_password
from geo_service.db.enums import ROLES
from geo_service.errors import AuthenticationError, InvalidParameterError, NotFoundError

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "gs_"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")

_COLUMNS = (
    "id, nom, role, territory_code, commune_insee, epci_siren, disabled, created_at, "
    "locked_until, (password_hash IS NOT NULL) AS has_password"
)


def _normalise_name(nom: str) -> str:
    name = nom.strip().lower()
    if not 2 <= len(name) <= 80 or not set(name) <= NAME_CHARS:
        raise InvalidParameterError(
            "Nom d'utilisateur invalide : 2 à 80 caractères parmi a-z, 0-9, « . _ - @ »."
        )
    return name


def get_user(conn: Connection, nom: str) -> dict[str, Any]:
    row = (
        conn.execute(
            text(f"SELECT {_COLUMNS} FROM app_user WHERE nom = :n"), {"n": nom.strip().lower()}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"Utilisateur inconnu : « {nom} ».")
    return dict(row)


def user_by_id(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(text(f"SELECT {_COLUMNS} FROM app_user WHERE id = :i"), {"i": user_id})
        .mappings()
        .first()
    )
    return dict(row) if row else None


def add_user(
    conn: Connection,
    actor: Actor,
    nom: str,
    *,
    role: str,
    territory: str,
    commune: str | None = None,
    epci: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Create an account; an élu is bound to one commune or one EPCI of the territory."""
    name = _normalise_name(nom)
    if role not in ROLES:
        raise InvalidParameterError(f"Rôle inconnu « {role} » (attendu : {', '.join(ROLES)}).")
    if role == "elu":
        if bool(commune) == bool(epci):
            raise InvalidParameterError(
                "Un élu est rattaché à une commune (--commune INSEE) ou à un EPCI (--epci SIREN)."
            )
        if (
            commune
            and not conn.execute(
                text("SELECT 1 FROM commune WHERE insee = :c AND territory_code = :t"),
                {"c": commune, "t": territory},
            ).first()
        ):
            raise InvalidParameterError(
                f"Commune inconnue dans le territoire {territory} : {commune}."
            )
        if (
            epci
            and not conn.execute(
                text("SELECT 1 FROM epci WHERE siren = :e AND territory_code = :t"),
                {"e": epci, "t": territory},
            ).first()
        ):
            raise InvalidParameterError(f"EPCI inconnu dans le territoire {territory} : {epci}.")
    elif commune or epci:
        raise InvalidParameterError("Seul un élu est rattaché à une commune ou à un EPCI.")
    if conn.execute(text("SELECT 1 FROM app_user WHERE nom = :n"), {"n": name}).first():
        raise InvalidParameterError(f"L'utilisateur « {name} » existe déjà.")
    if not conn.execute(text("SELECT 1 FROM territory WHERE code = :t"), {"t": territory}).first():
        raise InvalidParameterError(
            f"Territoire {territory} non chargé : lancez d'abord « geo-service reference load »."
        )
    conn.execute(
        text(
            "INSERT INTO app_user (nom, role, territory_code, commune_insee, epci_siren, "
            "password_hash) VALUES (:n, :r, :t, :c, :e, :h)"
        ),
        {
            "n": name,
            "r": role,
            "t": territory,
            "c": commune if role == "elu" else None,
            "e": epci if role == "elu" else None,
            "h": hash_password(password) if password else None,
        },
    )
    user = get_user(conn, name)
    audit.record(
        conn,
        actor,
        action="creation",
        object_type="utilisateur",
        object_key=name,
        after={k: user[k] for k in ("role", "commune_insee", "epci_siren")},
    )
    return user


def list_users(conn: Connection, territory: str | None = None) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM app_user "
            "WHERE CAST(:t AS text) IS NULL OR territory_code = :t ORDER BY nom"
        ),
        {"t": territory},
    ).mappings()
    return [dict(r) for r in rows]


def disable_user(conn: Connection, actor: Actor, nom: str) -> dict[str, Any]:
    """Disable an account: its sessions and tokens stop working at once."""
    user = get_user(conn, nom)
    conn.execute(
        text("UPDATE app_user SET disabled = true, updated_at = now() WHERE id = :i"),
        {"i": user["id"]},
    )
    conn.execute(
        text("UPDATE api_token SET revoked_at = now() WHERE user_id = :i AND revoked_at IS NULL"),
        {"i": user["id"]},
    )
    audit.record(
        conn,
        actor,
        action="desactivation",
        object_type="utilisateur",
        object_key=user["nom"],
        before={"disabled": user["disabled"]},
        after={"disabled": True},
    )
    return get_user(conn, user["nom"])


def set_password(conn: Connection, actor: Actor, nom: str, password: str) -> None:
    user = get_user(conn, nom)
    conn.execute(
        text(
            "UPDATE app_user SET password_hash = :h, failed_logins = 0, locked_until = NULL, "
            "updated_at = now() WHERE id = :i"
        ),
        {"h": hash_password(password), "i": user["id"]},
    )
    audit.record(
        conn, actor, action="mot_de_passe", object_type="utilisateur", object_key=user["nom"]
    )


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(conn: Connection, actor: Actor, nom: str) -> str:
    """A new API token for the user (its earlier tokens are revoked); returned once."""
    user = get_user(conn, nom)
    if user["disabled"]:
        raise InvalidParameterError(f"L'utilisateur « {user['nom']} » est désactivé.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        text("UPDATE api_token SET revoked_at = now() WHERE user_id = :i AND revoked_at IS NULL"),
        {"i": user["id"]},
    )
    conn.execute(
        text("INSERT INTO api_token (user_id, token_sha256) VALUES (:i, :h)"),
        {"i": user["id"], "h": _sha256(token)},
    )
    audit.record(conn, actor, action="jeton", object_type="utilisateur", object_key=user["nom"])
    return token


def revoke_tokens(conn: Connection, actor: Actor, nom: str) -> int:
    user = get_user(conn, nom)
    count = conn.execute(
        text("UPDATE api_token SET revoked_at = now() WHERE user_id = :i AND revoked_at IS NULL"),
        {"i": user["id"]},
    ).rowcount
    audit.record(
        conn, actor, action="revocation_jetons", object_type="utilisateur", object_key=user["nom"]
    )
    return int(count)


def user_for_token(conn: Connection, token: str) -> dict[str, Any] | None:
    """The active user holding this token, or None (unknown, revoked, or account disabled)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        conn.execute(
            text(
                "UPDATE api_token t SET last_used_at = now() FROM app_user u "
                "WHERE t.token_sha256 = :h AND t.revoked_at IS NULL AND u.id = t.user_id "
                "AND NOT u.disabled RETURNING u.id"
            ),
            {"h": _sha256(token)},
        )
        .mappings()
        .first()
    )
    return user_by_id(conn, int(row["id"])) if row else None


def authenticate(conn: Connection, nom: str, password: str) -> dict[str, Any]:
    """Check a sign-in; after 5 failures the account is locked for 15 minutes. One French
    message for every refusal, so that it does not tell which accounts exist."""
    refused = AuthenticationError("Identifiant ou mot de passe incorrect.")
    row = (
        conn.execute(
            text(
                "SELECT id, password_hash, disabled, failed_logins, locked_until FROM app_user "
                "WHERE nom = :n FOR UPDATE"
            ),
            {"n": nom.strip().lower()[:80]},
        )
        .mappings()
        .first()
    )
    now = datetime.now(UTC)
    if row is None:
        verify_password(password, None)
        raise refused
    if row["locked_until"] and row["locked_until"] > now:
        raise AuthenticationError(
            "Trop d'essais infructueux : ce compte est bloqué quelques minutes. Réessayez plus tard."
        )
    if row["disabled"] or not verify_password(password, row["password_hash"]):
        failures = int(row["failed_logins"]) + 1
        conn.execute(
            text("UPDATE app_user SET failed_logins = :f, locked_until = :l WHERE id = :i"),
            {
                "f": 0 if failures >= MAX_FAILURES else failures,
                "l": now + LOCKOUT if failures >= MAX_FAILURES else None,
                "i": row["id"],
            },
        )
        raise refused
    conn.execute(
        text("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = :i"),
        {"i": row["id"]},
    )
    user = user_by_id(conn, int(row["id"]))
    assert user is not None
    return user


def actor_for(user: dict[str, Any], *, source: str, request_id: str | None = None) -> Actor:
    return Actor(
        name=user["nom"],
        role=user["role"],
        territory=user["territory_code"],
        user_id=int(user["id"]),
        commune_insee=user["commune_insee"],
        epci_siren=user["epci_siren"],
        source=source,
        request_id=request_id,
    )
