"""Configuration from the environment (never read at import time: built by create_app / the CLI)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_PORT = 55432


def default_pgdata() -> Path:
    """Where the project-local cluster lives: `.pgdata/` unless root, whose checkout the
    `postgres` user may not reach; then a per-checkout folder under /var/tmp."""
    if os.geteuid() == 0:
        digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
        return Path("/var/tmp") / f"geo-service-{digest}" / "pgdata"
    return PROJECT_ROOT / ".pgdata"


def port_file(pgdata: Path) -> Path:
    """Where `db up` remembers the port it chose for this PGDATA (another checkout's cluster may
    hold the default one): a small file next to PGDATA."""
    return pgdata.parent / f"{pgdata.name}.port"


def remembered_port(pgdata: Path) -> int | None:
    try:
        text = port_file(pgdata).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class Settings(BaseSettings):
    """Service settings; every variable may be given with the GEO_SERVICE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GEO_SERVICE_DATABASE_URL")
    )
    # the territory's code (a département's INSEE code, or any code declared in
    # data/territories/<code>/territoire.toml for a territory of several départements)
    departement: str = Field(
        default="46",
        validation_alias=AliasChoices(
            "GEO_SERVICE_TERRITOIRE", "GEO_SERVICE_DEPARTEMENT", "departement"
        ),
    )
    pg_port: int = DEFAULT_PG_PORT
    pgdata: Path = Field(default_factory=default_pgdata)
    data_dir: Path = PROJECT_ROOT / "data"
    demo_dir: Path | None = None
    base_tiles: str = "OpenStreetMap"
    user: str = Field(default_factory=lambda: os.environ.get("USER") or "geo-service")
    # signs session cookies and CSRF tokens; without it a random key is kept in secret_file
    secret_key: SecretStr | None = None
    secret_file: Path = PROJECT_ROOT / ".secret_key"
    max_body_kb: int = 64
    max_upload_mb: int = 512
    # memory of each worker for pages, series and tiles computed once per data version
    cache_mb: int = 256
    # requests each worker serves at once (the others wait their turn, then get a 503): a few
    # per core keep the cores busy; more only add contention (GEO_SERVICE_REQUETES_SIMULTANEES)
    requetes_simultanees: int = Field(default=6, ge=1, le=64)
    # sites allowed to call the public API from the browser (a static export on another host),
    # comma-separated origins; empty: none
    cors_origins: str = ""
    # a New Deal site without an ARCEP link is linked to the nearest ANFR station of one of its
    # operators within this distance (GEO_SERVICE_DISTANCE_LIEN_ANFR_M)
    distance_lien_anfr_m: float = Field(default=500.0, gt=0)
    # `geo-service serve` keeps the shared page cache warm in the background (every public page
    # rendered after start-up and after each import or edit); off in other uses of the app
    prechauffage: bool = False
    # streaming replicas serving the public reads (comma-separated libpq URLs; empty: none), and
    # the replay delay beyond which one is skipped (GEO_SERVICE_REPLICA_RETARD_MAX_S)
    database_replica_urls: str = Field(
        default="",
        validation_alias=AliasChoices(
            "DATABASE_REPLICA_URLS", "GEO_SERVICE_DATABASE_REPLICA_URLS", "database_replica_urls"
        ),
    )
    replica_retard_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _default_port_of_this_checkout(self) -> Settings:
        """Unless a port is given, the one `db up` chose for this PGDATA (if it had to)."""
        if "pg_port" not in self.model_fields_set:
            port = remembered_port(self.pgdata)
            if port:
                self.__dict__["pg_port"] = port  # stays a default: not in model_fields_set
        return self

    @model_validator(mode="after")
    def _base_map_of_the_territory(self) -> Settings:
        """Unless given, the base map declared in the territory's territoire.toml."""
        if "base_tiles" not in self.model_fields_set:
            from geo_service.errors import ReferenceDataError
            from geo_service.reference.territory_config import read_config

            try:
                fond = read_config(self.departement, self.territory_dir()).fond_de_carte
            except ReferenceDataError:  # reported by `reference load`, which reads it too
                fond = None
            if fond:
                self.__dict__["base_tiles"] = fond
        return self

    @property
    def local_cluster(self) -> bool:
        """True when no DATABASE_URL is given and the project runs its own PostgreSQL."""
        return not self.database_url

    @property
    def libpq_url(self) -> str:
        """The database URL in libpq form (postgresql://user:pw@host:port/db)."""
        if self.database_url:
            return self.database_url
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/geo_service"

    @property
    def sqlalchemy_url(self) -> str:
        """The same URL for SQLAlchemy with the psycopg 3 driver."""
        return to_sqlalchemy_url(self.libpq_url)

    @property
    def replica_urls(self) -> list[str]:
        return [u.strip() for u in self.database_replica_urls.split(",") if u.strip()]

    def territory_dir(self, code: str | None = None) -> Path:
        """Folder of per-territory configuration files (AMII list, targets…)."""
        return self.data_dir / "territories" / (code or self.departement)

    def demo_path(self, code: str | None = None) -> Path:
        return self.demo_dir or (self.data_dir / "demo" / (code or self.departement))


def to_sqlalchemy_url(url: str) -> str:
    """postgresql://… or postgres://… → postgresql+psycopg://…"""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
