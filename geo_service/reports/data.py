"""The dated, sourced figures of a year's document for the département, an EPCI or a commune:
technique, commercial, programmes. Each figure carries its date and its source; the délégataire's
DSP-wide figures are kept apart (perimetre 'dsp') and never added to the territory's own; an
estimate says so. Pure: it reads a `YearContext`, never the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from geo_service.reports.context import YearContext, count_by

Level = Literal["departement", "epci", "commune"]
UNAVAILABLE = "données non disponibles"

SRC_IPE = "IPE du délégataire (historique des états), calcul geo_service"
SRC_PM = "PM : dates d'installation (IPE / GraceTHD)"
SRC_NRO = "NRO : dates d'installation (GraceTHD)"
SRC_DOE = "registre des DOE (état à la date, d'après les modifications datées du personnel)"
SRC_RAD = "liste RAD et étapes de la procédure (IPE, avenant)"
SRC_OUBLIES = "IPE (zones à plus de 95 %) et Base adresse nationale"
SRC_INCIDENTS = "registre des incidents"
SRC_CONTROLES = "registre des contrôles de conformité des PM"
SRC_ABONNES = "abonnés déclarés par le délégataire ; raccordables : IPE (calcul geo_service)"
SRC_ECHANGES = "fiches d'échanges frontaliers co-signées (convention de 2022)"
SRC_MOBILE = "registre des sites mobiles (New Deal, centres-bourgs)"
SRC_WIFI = "registre des bornes WiFi et statistiques de connexion"
SRC_MED = "registre des sites de montée en débit"


@dataclass(frozen=True)
class Figure:
    """One number of a document, with the date it holds on and where it comes from."""

    libelle: str
    valeur: int | float | str | None
    jour: date | None
    source: str
    unite: str = ""
    perimetre: Literal["territoire", "dsp"] = "territoire"
    estimation: bool = False
    note: str = ""

    @property
    def texte(self) -> str:
        """The value in French typography (thin spaces, decimal comma), or « données non
        disponibles »."""
        return fr_value(self.valeur, self.unite)


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Image:
    """A chart or a map: PNG (or SVG) bytes and the text that says what it shows (alt)."""

    titre: str
    alt: str
    png: bytes
    kind: Literal["carte", "graphique"]
    mime: str = "image/png"


@dataclass
class Section:
    ident: str
    titre: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Dossier:
    level: Level
    code: str
    nom: str
    titre: str
    annee: int
    au: date
    territoire: str
    sections: list[Section]
    communes: list[dict[str, Any]] = field(default_factory=list)

    def section(self, ident: str) -> Section:
        return next(s for s in self.sections if s.ident == ident)


def fr_int(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def fr_value(value: int | float | str | None, unit: str = "") -> str:
    if value is None:
        return UNAVAILABLE
    if isinstance(value, bool) or isinstance(value, str):
        text_value = str(value)
    elif isinstance(value, int):
        text_value = fr_int(value)
    else:
        text_value = f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return f"{text_value}\u00a0{unit}" if unit else text_value


def fr_date(day: date | str | None) -> str:
    if day is None:
        return "—"
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return day.strftime("%d/%m/%Y")


def _signed(value: int) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + fr_int(abs(value))


# --- technique -------------------------------------------------------------------------------


def _target_on(ctx: YearContext, level: str, code: str) -> tuple[date, int, str, bool] | None:
    """The latest contractual target due by the year end: the unit's own, else (estimate) the
    département's scaled to the unit's logements."""
    own = [t for t in ctx.targets.get((level, code), []) if t[0] <= ctx.as_of]
    if own:
        return (*own[-1], False)
    dept = [t for t in ctx.targets.get(("departement", ctx.territory), []) if t[0] <= ctx.as_of]
    if level == "departement" or not dept:
        return None
    mine = ctx.racc(ctx.as_of, level, code)["logements"]
    whole = ctx.racc(ctx.as_of, "departement", ctx.territory)["logements"]
    day, value, source = dept[-1]
    return day, round(value * mine / whole) if whole else 0, source, True


def _fibre(ctx: YearContext, level: Level, code: str, insees: set[str]) -> Section:
    now = ctx.racc(ctx.as_of, level, code)
    before = ctx.racc(ctx.previous, level, code)
    sec = Section("technique", "Technique : le réseau de fibre optique")
    day = ctx.as_of
    sec.figures += [
        Figure("Logements à raccorder (RIP)", now["logements"], day, SRC_IPE),
        Figure("Logements raccordables (cumul)", now["raccordables"], day, SRC_IPE),
        Figure("Taux de logements raccordables", now["taux"], day, SRC_IPE, unite="%"),
        Figure(
            f"Nouveaux raccordables en {ctx.year}",
            now["raccordables"] - before["raccordables"],
            day,
            SRC_IPE,
            note=f"différence entre le {fr_date(ctx.previous)} et le {fr_date(day)}",
        ),
    ]
    target = _target_on(ctx, level, code)
    if target is None:
        sec.figures.append(Figure("Écart au plan contractuel", None, day, "objectifs contractuels"))
    else:
        t_day, t_value, t_source, scaled = target
        what = "objectif du département rapporté aux logements" if scaled else "objectif"
        sec.figures += [
            Figure(
                f"Objectif contractuel échu au {fr_date(t_day)}",
                t_value,
                t_day,
                f"objectifs contractuels ({t_source})" if t_source else "objectifs contractuels",
                estimation=scaled,
                note=what,
            ),
            Figure(
                "Écart au plan contractuel",
                _signed(now["raccordables"] - t_value),
                day,
                "raccordables − objectif échu",
                estimation=scaled,
            ),
        ]
    zones = [
        a
        for a in ctx.armoires
        if level == "departement" or ctx.pm_communes.get(a["reference"], set()) & insees
    ]
    built = [a for a in zones if a["installee"]]
    built_year = [
        a for a in built if a["date_installation"] and a["date_installation"].year == ctx.year
    ]
    nro = [n for n in ctx.nro if level == "departement" or n["insees"] & insees]
    nro_built = [n for n in nro if n["date_installation"] and n["date_installation"] <= day]
    sec.figures += [
        Figure("PM (armoires) installés", len(built), day, SRC_PM, note=f"sur {len(zones)} PM"),
        Figure(f"PM installés en {ctx.year}", len(built_year), day, SRC_PM),
        Figure("NRO installés", len(nro_built), day, SRC_NRO, note=f"sur {len(nro)} NRO"),
        Figure(
            "DOE validés",
            sum(1 for a in zones if a["doe_etat"] == "VALIDE"),
            day,
            SRC_DOE,
            note=f"sur {len(zones)} zones",
        ),
        Figure(
            "DOE dus (zones à 100 %, DOE non déposé)",
            sum(1 for a in zones if a["taux"] >= 100 and a["doe_etat"] in ("NON_DU", "A_DEPOSER")),
            day,
            SRC_DOE,
        ),
    ]
    rad = [r for r in ctx.rad if r["insee"] in insees]
    listed = [r for r in rad if r["etape"] in ("LISTE_AVENANT", "DEMANDE", "CONSTRUIT")]
    done = [r for r in rad if r["etape"] == "CONSTRUIT"]
    sec.figures += [
        Figure("Raccordables à la demande (RAD) : immeubles connus", len(rad), day, SRC_RAD),
        Figure("RAD inscrits à l'avenant ou plus loin (immeubles)", len(listed), day, SRC_RAD),
        Figure("RAD construits (immeubles)", len(done), day, SRC_RAD),
        Figure(
            "Oubliés : adresses laissées dans des zones à plus de 95 %",
            sum(1 for o in ctx.oublies_zones if o["insee"] in insees),
            day,
            SRC_OUBLIES,
        ),
        Figure(
            "Oubliés : adresses absentes du fichier de l'opérateur",
            sum(1 for o in ctx.oublies_absents if o["insee"] in insees),
            None,
            SRC_OUBLIES,
            note="état à l'édition",
        ),
    ]
    return sec


def _operations(ctx: YearContext, level: Level, code: str, insees: set[str]) -> Section:
    sec = Section("exploitation", "Technique : exploitation du réseau")
    inc = ctx.incidents
    src = f"{SRC_INCIDENTS} ; engagements de délai : {inc['total']['engagements']}"
    if level == "departement":
        mine = inc["total"]["lignes"][0] if inc["total"]["lignes"] else None
    else:
        by = "epci" if level == "epci" else "commune"
        mine = next((r for r in inc[by]["lignes"] if r["groupe"] == code), None)
    day = ctx.as_of
    own = "territoire" if level == "departement" else ("EPCI" if level == "epci" else "commune")
    if "incidents" in ctx.missing:
        sec.figures.append(Figure("Incidents", None, day, SRC_INCIDENTS))
    else:
        sec.figures += [
            Figure(
                f"Incidents ouverts en {ctx.year} ({own})",
                mine["incidents"] if mine else 0,
                day,
                src,
            ),
            Figure(
                "Part rétablie dans le délai d'engagement",
                mine["part_dans_engagement"] if mine else None,
                day,
                src,
                unite="%",
            ),
            Figure(
                "Délai moyen de rétablissement",
                mine["delai_moyen_heures"] if mine else None,
                day,
                src,
                unite="h",
            ),
        ]
        dsp = inc["dsp"]["lignes"][0] if inc["dsp"]["lignes"] else None
        if dsp is not None and level == "departement":
            label = inc["dsp"]["perimetre_libelle"]
            sec.figures += [
                Figure(
                    f"Incidents ouverts en {ctx.year} — {label}",
                    dsp["incidents"],
                    day,
                    f"{SRC_INCIDENTS} du délégataire",
                    perimetre="dsp",
                ),
                Figure(
                    f"Part rétablie dans le délai — {label}",
                    dsp["part_dans_engagement"],
                    day,
                    f"{SRC_INCIDENTS} du délégataire",
                    unite="%",
                    perimetre="dsp",
                ),
            ]
        if level == "departement" and inc["categorie"]["lignes"]:
            sec.tables.append(
                Table(
                    f"Incidents {ctx.year} du territoire par catégorie (au {fr_date(day)})",
                    [
                        "Catégorie",
                        "Incidents",
                        "Rétablis",
                        "Dans l'engagement",
                        "Engagement (h)",
                        "Délai moyen (h)",
                    ],
                    [
                        [
                            r["nom"],
                            fr_int(r["incidents"]),
                            fr_int(r["retablis"]),
                            fr_value(r["part_dans_engagement"], "%"),
                            fr_value(r.get("engagement_heures")),
                            fr_value(r["delai_moyen_heures"]),
                        ]
                        for r in inc["categorie"]["lignes"]
                    ],
                )
            )
    controls = ctx.controls[ctx.territory]
    src_c = f"{SRC_CONTROLES} ; objectif : {controls['objectif_source']}"
    if level == "departement":
        sec.figures += [
            Figure(
                f"PM contrôlés (campagne {ctx.year})",
                controls["controles"],
                day,
                src_c,
                note=f"objectif {fr_int(controls['objectif'])}",
            ),
            Figure("Avancement des contrôles", controls["avancement"], day, src_c, unite="%"),
        ]
        dsp_c = ctx.controls["dsp"]
        if dsp_c["controles"]:
            sec.figures.append(
                Figure(
                    f"PM contrôlés — {dsp_c['perimetre_libelle']}",
                    dsp_c["controles"],
                    day,
                    f"{SRC_CONTROLES} du délégataire ; objectif : {dsp_c['objectif_source']}",
                    perimetre="dsp",
                    note=f"objectif {fr_int(dsp_c['objectif'])}",
                )
            )
    else:
        zones = {
            a["reference"]
            for a in ctx.armoires
            if ctx.pm_communes.get(a["reference"], set()) & insees
        }
        sec.figures.append(
            Figure(
                f"PM de l'unité contrôlés (campagne {ctx.year})",
                len(zones & ctx.controlled_pm),
                day,
                SRC_CONTROLES,
                note=f"sur {len(zones)} PM",
            )
        )
    b = ctx.borders
    if "échanges frontaliers" in ctx.missing:
        sec.figures.append(Figure("Échanges frontaliers", None, day, SRC_ECHANGES))
    elif level == "departement":
        sec.figures += [
            Figure(
                "Immeubles du territoire servis par un réseau voisin",
                b["immeubles_servis_par_voisins"],
                day,
                SRC_ECHANGES,
            ),
            Figure(
                "Immeubles hors territoire servis par le délégataire",
                b["immeubles_servis_hors_territoire"],
                day,
                SRC_ECHANGES,
            ),
        ]
        sec.tables.append(
            Table(
                f"Échanges frontaliers par réseau voisin (fiches co-signées au {fr_date(day)})",
                [
                    "Réseau voisin",
                    "Immeubles du territoire servis",
                    "Immeubles extérieurs servis",
                    "Secteurs",
                    "Liens (m)",
                ],
                [
                    [
                        r["voisin"],
                        fr_int(r["immeubles_servis_par_voisin"]),
                        fr_int(r["immeubles_servis_par_delegataire"]),
                        fr_int(r["secteurs"]),
                        fr_value(r["longueur_liens_m"]),
                    ]
                    for r in b["lignes"]
                ],
            )
        )
    else:
        served = count_by(ctx.border_buildings, "sens", insees)
        sec.figures.append(
            Figure(
                "Immeubles de l'unité servis par un réseau voisin",
                served.get("SERVI_PAR_VOISIN", 0),
                day,
                SRC_ECHANGES,
            )
        )
    return sec


# --- commercial ------------------------------------------------------------------------------


def _commercial(ctx: YearContext, level: Level, code: str, insees: set[str]) -> Section:
    sec = Section("commercial", "Commercial : abonnés et opérateurs")
    tu = ctx.take_up[ctx.territory]
    if tu["total"] is None:
        sec.figures.append(Figure("Abonnés", None, ctx.as_of, SRC_ABONNES))
        return sec
    day = date.fromisoformat(tu["date_releve"])
    if level == "departement":
        total = tu["total"]
        abonnes, base, rate, fai = (
            total["abonnes"],
            total["raccordables"],
            total["taux_penetration"],
            total["fai"],
        )
    else:
        lines = [r for r in tu["lignes"] if r["code"] in insees]
        abonnes = sum(r["abonnes"] for r in lines)
        base = sum(r["raccordables"] or 0 for r in lines)
        rate = round(100.0 * abonnes / base, 2) if base else None
        fai = sorted({f for r in lines for f in r["fai"]})
    sec.figures += [
        Figure("Abonnés (relevé du délégataire)", abonnes, day, SRC_ABONNES),
        Figure("Logements raccordables à la même date", base, day, SRC_IPE),
        Figure("Taux de pénétration (abonnés / raccordables)", rate, day, SRC_ABONNES, unite="%"),
    ]
    national = tu.get("national")
    if national:
        sec.figures.append(
            Figure(
                "Taux de pénétration national (ARCEP)",
                national["taux"],
                date.fromisoformat(national["date"]),
                national["source"],
                unite="%",
            )
        )
    sec.figures.append(
        Figure("Fournisseurs d'accès présents", ", ".join(fai) if fai else None, day, SRC_ABONNES)
    )
    dsp = ctx.take_up["dsp"]
    if level == "departement" and dsp["total"] is not None:
        sec.figures += [
            Figure(
                f"Abonnés — {dsp['perimetre_libelle']}",
                dsp["total"]["abonnes"],
                date.fromisoformat(dsp["date_releve"]),
                "abonnés et raccordables déclarés par le délégataire",
                perimetre="dsp",
            ),
            Figure(
                f"Taux de pénétration — {dsp['perimetre_libelle']}",
                dsp["total"]["taux_penetration"],
                date.fromisoformat(dsp["date_releve"]),
                "abonnés et raccordables déclarés par le délégataire",
                unite="%",
                perimetre="dsp",
            ),
        ]
    return sec


# --- programmes ------------------------------------------------------------------------------


def _programmes(ctx: YearContext, level: Level, code: str, insees: set[str]) -> Section:
    sec = Section("programmes", "Programmes : mobile, WiFi public, montée en débit")
    day = ctx.as_of
    key = "departement" if level == "departement" else (code if level == "epci" else None)
    if key is not None:
        res = ctx.programmes[key]["resume"]
        mobile_sites, in_service, late = (
            res["sites_mobiles"],
            res["sites_mobiles_en_service"],
            res["sites_mobiles_en_retard"],
        )
        bornes, share = res["bornes_wifi_en_service"], res["part_logements_couverts_wifi"]
        med, med_open, med_foyers = (
            res["sites_med"],
            res["sites_med_ouverts"],
            res["foyers_med_desservis"],
        )
        usage = ctx.programmes[key]["wifi"]["utilisateurs_par_mois"]
    else:
        whole = ctx.programmes["departement"]
        per = {r["code"]: r for r in whole["mobile"]["par_commune"]}.get(code, {})
        mobile_sites, in_service, late = (
            per.get("sites", 0),
            per.get("en_service", 0),
            per.get("en_retard", 0),
        )
        bornes = sum(1 for b in ctx.bornes if b["insee"] == code and b["etat"] == "EN_SERVICE")
        cov = {c["insee"]: c for c in whole["wifi"]["couverture_par_commune"]}.get(code)
        share = cov["part_couverte"] if cov else None
        med, med_open, med_foyers = None, None, None
        usage = []
    sec.figures += [
        Figure("Sites mobiles (tous programmes)", mobile_sites, day, SRC_MOBILE),
        Figure("Sites mobiles en service", in_service, day, SRC_MOBILE),
        Figure("Sites mobiles en retard sur leur échéance", late, day, SRC_MOBILE),
        Figure("Bornes WiFi en service", bornes, day, SRC_WIFI),
        Figure(
            "Logements couverts par une borne WiFi",
            None if share is None else round(100.0 * share, 1),
            day,
            SRC_WIFI,
            unite="%",
        ),
    ]
    if usage:
        last = [u for u in usage if str(u["mois"])[:4] == str(ctx.year)]
        sec.figures.append(
            Figure(f"Sessions WiFi en {ctx.year}", sum(u["sessions"] for u in last), day, SRC_WIFI)
        )
    if med is not None:
        sec.figures += [
            Figure("Sites de montée en débit", med, day, SRC_MED),
            Figure("Sites de montée en débit ouverts", med_open, day, SRC_MED),
            Figure("Foyers desservis par la montée en débit", med_foyers, day, SRC_MED),
        ]
    return sec


# --- documents -------------------------------------------------------------------------------


def unit_of(ctx: YearContext, level: Level, code: str | None) -> tuple[str, str, set[str]]:
    """(code, name, INSEE codes) of the document's unit."""
    if level == "departement":
        return ctx.territory, ctx.territory_name, {c["insee"] for c in ctx.communes}
    if not code:
        raise ValueError("code required")
    if level == "epci":
        return code, ctx.epci(code)["nom"], {c["insee"] for c in ctx.members(code)}
    return code, ctx.commune(code)["nom"], {code}


def gather(ctx: YearContext, level: Level, code: str | None = None) -> Dossier:
    """The year's document of the unit: its sections of dated, sourced figures."""
    unit_code, name, insees = unit_of(ctx, level, code)
    titles = {
        "departement": f"Rapport annuel {ctx.year} — {name}",
        "epci": f"Dossier {ctx.year} — {name}",
        "commune": f"Fiche {ctx.year} — commune de {name}",
    }
    sections = [
        _fibre(ctx, level, unit_code, insees),
        _operations(ctx, level, unit_code, insees),
        _commercial(ctx, level, unit_code, insees),
        _programmes(ctx, level, unit_code, insees),
    ]
    communes = []
    if level == "epci":
        for c in ctx.members(unit_code):
            r = ctx.racc(ctx.as_of, "commune", c["insee"])
            communes.append(
                {
                    **c,
                    "logements": r["logements"],
                    "raccordables": r["raccordables"],
                    "taux": r["taux"],
                }
            )
    return Dossier(
        level,
        unit_code,
        name,
        titles[level],
        ctx.year,
        ctx.as_of,
        ctx.territory_name,
        sections,
        communes,
    )
