"""All mapped tables (imported here so Alembic's autogenerate sees them)."""

from geo_service.db.models.anfr import AnfrEmetteur, AnfrStation, AnfrStationSupport, AnfrSupport
from geo_service.db.models.arcep import ArcepImmeuble, FermetureCuivre
from geo_service.db.models.assets import AssetChange
from geo_service.db.models.auth import ApiToken, AppUser, AuditLog
from geo_service.db.models.cache import PageCache
from geo_service.db.models.followup import (
    ContractTarget,
    RadProcedure,
    ReferenceAddress,
    Signalement,
)
from geo_service.db.models.journal import ImportJournal
from geo_service.db.models.med import MedSite
from geo_service.db.models.mobile import MobileSite, MobileSiteStation, NamedLayer
from geo_service.db.models.network import (
    AddressStreet,
    Nro,
    Pm,
    PmHistory,
    Premise,
    PremiseHistory,
    StateCube,
    StateRollup,
)
from geo_service.db.models.onereuses import OperatorExpensive
from geo_service.db.models.operations import (
    AbonnesReleve,
    ControlePm,
    EchangeFrontalier,
    Incident,
)
from geo_service.db.models.reference import Commune, Epci, Territory
from geo_service.db.models.wifi import WifiBorne, WifiUsage

__all__ = [
    "AbonnesReleve",
    "ControlePm",
    "EchangeFrontalier",
    "Incident",
    "ArcepImmeuble",
    "FermetureCuivre",
    "AnfrEmetteur",
    "AnfrStation",
    "AnfrStationSupport",
    "AnfrSupport",
    "MobileSiteStation",
    "NamedLayer",
    "WifiUsage",
    "ApiToken",
    "AppUser",
    "AuditLog",
    "AddressStreet",
    "AssetChange",
    "ContractTarget",
    "RadProcedure",
    "ReferenceAddress",
    "Signalement",
    "StateCube",
    "StateRollup",
    "Commune",
    "Epci",
    "ImportJournal",
    "MedSite",
    "MobileSite",
    "Nro",
    "OperatorExpensive",
    "PageCache",
    "Pm",
    "PmHistory",
    "Premise",
    "PremiseHistory",
    "Territory",
    "WifiBorne",
]
