"""Write small IPE files for the import tests (same columns as the operators' files)."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "IdentifiantImmeuble;CodeAdresseImmeuble;CodeInseeImmeuble;CodePostalImmeuble;CommuneImmeuble;"
    "NumeroVoieImmeuble;ComplementNumeroVoieImmeuble;TypeVoieImmeuble;NomVoieImmeuble;"
    "BatimentImmeuble;CoordonneeImmeubleX;CoordonneeImmeubleY;TypeProjectionGeographique;"
    "NombreLogementsAdresseIPE;EtatImmeuble;ReferencePM;EtatPM;DateInstallationPM;CodeOI"
)
# Four buildings in Figeac: two in zone TST01 (west), two in zone TST02 (east).
BUILDINGS = {
    "IMB/46102/T/0001": ("1", "Rue de l'Église", 621_500, 6_390_100, "TST01"),
    "IMB/46102/T/0002": ("3", "Rue de l'Église", 621_800, 6_390_300, "TST01"),
    "IMB/46102/T/0003": ("12", "Route de Capdenac", 623_500, 6_390_500, "TST02"),
    "IMB/46102/T/0004": ("14", "Route de Capdenac", 623_800, 6_390_200, "TST02"),
}


def write_ipe(
    path: Path, states: dict[str, tuple[str, int, str, str]], *, oi: str = "TEST"
) -> Path:
    """states: identifiant → (EtatImmeuble, logements, EtatPM, DateInstallationPM)."""
    lines = [HEADER]
    for ident, (etat, logements, etat_pm, date_pm) in states.items():
        numero, voie, x, y, pm = BUILDINGS[ident]
        lines.append(
            f"{ident};46102_{ident[-4:]};46102;46100;Figeac;{numero};;;{voie};;{x};{y};L93;"
            f"{logements};{etat};{pm};{etat_pm};{date_pm};{oi}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
