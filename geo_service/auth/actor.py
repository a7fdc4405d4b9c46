"""Who is acting: a signed-in user or token holder (API, console), or the CLI's operator."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_RANK = {"public": 0, "elu": 1, "technicien": 2, "admin": 3}
ROLE_LABELS = {
    "public": "public",
    "elu": "élu",
    "technicien": "technicien",
    "admin": "administrateur",
}


@dataclass(frozen=True)
class Actor:
    """The identity behind a request or a command; `source` is api, console, cli or import."""

    name: str
    role: str
    territory: str
    user_id: int | None = None
    commune_insee: str | None = None
    epci_siren: str | None = None
    source: str = "api"
    request_id: str | None = None

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def with_source(self, source: str, request_id: str | None = None) -> Actor:
        return Actor(
            name=self.name,
            role=self.role,
            territory=self.territory,
            user_id=self.user_id,
            commune_insee=self.commune_insee,
            epci_siren=self.epci_siren,
            source=source,
            request_id=request_id or self.request_id,
        )


def cli_actor(name: str, territory: str) -> Actor:
    """The operator of the command line on the server (trusted like an administrator)."""
    return Actor(name=name, role="admin", territory=territory, source="cli")
