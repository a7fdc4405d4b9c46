"""Staff and élu accounts, their API tokens, and the audit trail of every write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base
from geo_service.db.enums import AUDIT_OUTCOMES, AUDIT_SOURCES, ROLES, one_of


class AppUser(Base):
    """An account: `elu` (bound to one commune or one EPCI), `technicien` or `admin`."""

    __tablename__ = "app_user"
    __table_args__ = (
        one_of("role", ROLES, "role"),
        CheckConstraint(
            "(role = 'elu' AND ((commune_insee IS NULL) <> (epci_siren IS NULL)))"
            " OR (role <> 'elu' AND commune_insee IS NULL AND epci_siren IS NULL)",
            name="elu_scope",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    nom: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"), index=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    epci_siren: Mapped[str | None] = mapped_column(String(9))
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored (the token is shown once)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """Who wrote what, when, from where: one row per write (refused ones too)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        one_of("source", AUDIT_SOURCES, "source"),
        one_of("outcome", AUDIT_OUTCOMES, "outcome"),
        Index("ix_audit_log_object", "object_type", "object_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    territory_code: Mapped[str | None] = mapped_column(String(10), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_key: Mapped[str] = mapped_column(String(200))
    before = mapped_column(JSONB, nullable=True)
    after = mapped_column(JSONB, nullable=True)
    source: Mapped[str] = mapped_column(String(10))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10), default="ok")
    detail: Mapped[str | None] = mapped_column(Text)
