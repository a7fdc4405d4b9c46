"""IPE snapshots (Interop'Fibre columns plus our NombreLocauxProfessionnels extension)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_service.demo.addressing import BOURG, HAMLET
from geo_service.demo.dates import NEVER, add_months, iso_array
from geo_service.demo.writers import csv_bytes, field

IPE_COLUMNS = [
    "IdentifiantImmeuble",
    "CodeAdresseImmeuble",
    "CodeInseeImmeuble",
    "CodePostalImmeuble",
    "CommuneImmeuble",
    "NumeroVoieImmeuble",
    "ComplementNumeroVoieImmeuble",
    "TypeVoieImmeuble",
    "NomVoieImmeuble",
    "BatimentImmeuble",
    "CoordonneeImmeubleX",
    "CoordonneeImmeubleY",
    "TypeProjectionGeographique",
    "NombreLogementsAdresseIPE",
    "NombreLocauxProfessionnels",
    "EtatImmeuble",
    "DateSignatureConvention",
    "AccordGestionnaireImmeuble",
    "ReferencePM",
    "EtatPM",
    "DateInstallationPM",
    "TypePBO",
    "TypeRaccoPBPTO",
    "RaccordementLong",
    "CodeOI",
    "DateMiseEnServiceCommercialeImmeuble",
]
STATES = np.array(
    [
        "CIBLE",
        "SIGNE",
        "EN COURS DE DEPLOIEMENT",
        "DEPLOYE",
        "ABANDONNE",
        "RACCORDABLE DEMANDE",
        "RAD EN COURS DE DEPLOIEMENT",
    ],
    dtype=object,
)
CIBLE, SIGNE, EN_COURS, DEPLOYE, ABANDONNE, RAD, RAD_EN_COURS = range(7)
PM_STATES = np.array(["PLANIFIE", "EN COURS DE DEPLOIEMENT", "DEPLOYE"], dtype=object)
RACCO = {"APPUI": "AERIEN", "CHAMBRE": "SOUTERRAIN", "FACADE": "FACADE", "IMMEUBLE": "SOUTERRAIN"}
PM_WORKS_DAYS = 90  # EtatPM EN COURS DE DEPLOIEMENT this long before installation
PM_ANNOUNCE_DAYS = 180  # DateInstallationPM published this long before installation


@dataclass
class BuildingDates:
    """Per-building day numbers driving the states (NEVER when it does not happen)."""

    sign: np.ndarray
    works: np.ndarray
    deploy: np.ndarray
    rad: np.ndarray
    rad_works: np.ndarray
    abandon: np.ndarray
    convention: np.ndarray
    pm_install: np.ndarray


def states_at(d: BuildingDates, when: int) -> np.ndarray:
    """EtatImmeuble code of every building on a given day."""
    state = np.full(len(d.sign), CIBLE, dtype=np.int8)
    state[when >= d.sign] = SIGNE
    state[when >= d.works] = EN_COURS
    state[when >= d.rad] = RAD
    state[when >= d.rad_works] = RAD_EN_COURS
    state[when >= d.deploy] = DEPLOYE
    state[when >= d.abandon] = ABANDONNE
    return state


def pbo_types(rng: np.random.Generator, kind: np.ndarray, logements: np.ndarray) -> np.ndarray:
    """TypePBO: IMMEUBLE for collectives, façade/chambre in bourgs, poles elsewhere."""
    u = rng.random(len(kind))
    bourg = np.where(u < 0.5, "FACADE", "CHAMBRE")
    hamlet = np.where(u < 0.6, "APPUI", np.where(u < 0.8, "FACADE", "CHAMBRE"))
    isolated = np.where(u < 0.85, "APPUI", "CHAMBRE")
    out = np.where(kind == BOURG, bourg, np.where(kind == HAMLET, hamlet, isolated))
    return np.where(logements >= 4, "IMMEUBLE", out).astype(object)


class IpeTable:
    """Everything needed to render the IPE of a set of buildings at any date."""

    def __init__(
        self,
        buildings: pd.DataFrame,
        pm_ref: np.ndarray,
        dates: BuildingDates,
        code_oi: str,
        long_racco: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.dates = dates
        b = buildings
        static = [
            b["imb"],
            b["code_adresse"],
            b["insee"],
            b["code_postal"],
            b["commune"],
            b["numero"].astype(str),
            b["rep"],
            b["type_voie"],
            b["nom_voie"],
            b["batiment"],
            b["x"].map("{:.2f}".format),
            b["y"].map("{:.2f}".format),
            pd.Series("L93", index=b.index),
            b["logements"].astype(str),
            b["locaux_pro"].astype(str),
        ]
        cols = [[field(v) for v in s.tolist()] for s in static]
        self.prefix = [";".join(row) for row in zip(*cols, strict=True)]
        self.pm_ref = [field(v) for v in pm_ref.tolist()]
        pbo = pbo_types(rng, b["kind"].to_numpy(), b["logements"].to_numpy())
        racco = np.array([RACCO[p] for p in pbo], dtype=object)
        longue = np.where(long_racco, "O", "N")
        self.known = [
            f"{p};{r};{lg};{code_oi}" for p, r, lg in zip(pbo, racco, longue, strict=True)
        ]
        self.unknown = f";;;{code_oi}"
        self.install_iso = iso_array(dates.pm_install)
        self.convention_iso = iso_array(dates.convention)
        self.mes_iso = iso_array(add_months(dates.deploy, 3))

    def lines(self, when: int) -> list[str]:
        """IPE lines (without header) as of a day, in the buildings' order."""
        d = self.dates
        state = states_at(d, when)
        etat = STATES[state].tolist()
        signed = when >= d.convention
        sig = np.where(signed, self.convention_iso, "").tolist()
        accord = np.where(signed, "O", "").tolist()
        pm_code = (when >= d.pm_install - PM_WORKS_DAYS).astype(np.int8) + (when >= d.pm_install)
        etat_pm = PM_STATES[pm_code].tolist()
        installed = np.where(when >= d.pm_install - PM_ANNOUNCE_DAYS, self.install_iso, "").tolist()
        works = (when >= d.works).tolist()
        mes = np.where(state == DEPLOYE, self.mes_iso, "").tolist()
        known, unknown = self.known, self.unknown
        return [
            f"{pre};{e};{s};{a};{ref};{ep};{ins};{known[i] if w else unknown};{m}"
            for i, (pre, e, s, a, ref, ep, ins, w, m) in enumerate(
                zip(
                    self.prefix,
                    etat,
                    sig,
                    accord,
                    self.pm_ref,
                    etat_pm,
                    installed,
                    works,
                    mes,
                    strict=True,
                )
            )
        ]

    def render(self, when: int) -> bytes:
        """The whole IPE file as of a day."""
        return csv_bytes(IPE_COLUMNS, self.lines(when))


def never(n: int) -> np.ndarray:
    """An array of NEVER day numbers."""
    return np.full(n, NEVER, dtype=np.int64)
