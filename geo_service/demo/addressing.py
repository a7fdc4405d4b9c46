"""Street names, numbers, BAN-like address codes and IPE building identifiers of one commune."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo_service.demo.names import bourg_streets, lieudit_names, route_name

BOURG, HAMLET, ISOLATED = 0, 1, 2
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STREET_SIZE = 20


def base36(value: int, width: int = 4) -> str:
    """Fixed-width base-36 code, as in IPE building identifiers."""
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        chars.append(BASE36[digit])
    return "".join(reversed(chars))


def imb_identifiers(rng: np.random.Generator, insee: str, count: int) -> list[str]:
    """Unique identifiers like IMB/46199/X/002Q for a commune."""
    codes = rng.choice(36**4, size=count, replace=False)
    return [f"IMB/{insee}/X/{base36(int(c))}" for c in codes]


def code_adresse(insee: str, street_code: int, numero: int, rep: str) -> str:
    """BAN-like address identifier, e.g. 46199_0120_00012 or 46199_0120_00012_bis."""
    suffix = f"_{rep}" if rep else ""
    return f"{insee}_{street_code:04d}_{numero:05d}{suffix}"


class _Streets:
    """Streets of a commune and the numbers already used on each."""

    def __init__(self) -> None:
        self.names: list[tuple[str, str]] = []
        self.index: dict[tuple[str, str], int] = {}
        self.used: list[set[tuple[int, str]]] = []

    def get(self, street: tuple[str, str]) -> int:
        if street not in self.index:
            self.index[street] = len(self.names)
            self.names.append(street)
            self.used.append(set())
        return self.index[street]

    def free_number(self, street: int, numero: int, rep: str = "") -> int:
        while (numero, rep) in self.used[street]:
            numero += 2
        self.used[street].add((numero, rep))
        return numero


def _number_sequence(
    rng: np.random.Generator,
    streets: _Streets,
    street: int,
    members: np.ndarray,
    numero: np.ndarray,
    rep: list[str],
    with_complements: bool,
) -> None:
    """Sequential numbers along a street, with a few skipped numbers and rare bis/ter."""
    counter = 0
    previous = -1
    for j, i in enumerate(members.tolist()):
        if with_complements and j > 0 and rep[previous] in ("", "bis") and rng.random() < 0.012:
            complement = "ter" if rep[previous] == "bis" else "bis"
            if (int(numero[previous]), complement) not in streets.used[street]:
                numero[i] = numero[previous]
                rep[i] = complement
                streets.used[street].add((int(numero[i]), complement))
                previous = i
                continue
        counter += 1 + int(rng.random() < 0.15)
        numero[i] = streets.free_number(street, counter)
        counter = int(numero[i])
        previous = i


def _bourg_groups(x: np.ndarray, y: np.ndarray, members: np.ndarray, centre) -> list[np.ndarray]:
    """Bourg buildings grouped into streets: central group split by angle, then rings/sectors."""
    dx, dy = x[members] - centre[0], y[members] - centre[1]
    radius, theta = np.hypot(dx, dy), np.arctan2(dy, dx)
    by_radius = np.argsort(radius, kind="stable")
    central, rest = by_radius[:30], by_radius[30:]
    groups: list[np.ndarray] = []
    n_central = 1 if central.size < 10 else (2 if central.size < 20 else 3)
    central = central[np.argsort(theta[central], kind="stable")]
    groups.extend(g for g in np.array_split(central, n_central) if g.size)
    if rest.size:
        n_rings = max(1, int(round(math.sqrt(rest.size / 60))))
        for ring in np.array_split(rest, n_rings):
            ring = ring[np.argsort(theta[ring], kind="stable")]
            chunks = max(1, int(math.ceil(ring.size / STREET_SIZE)))
            groups.extend(g for g in np.array_split(ring, chunks) if g.size)
    return [members[g] for g in groups]


def address_commune(
    rng: np.random.Generator, frame: pd.DataFrame, row: pd.Series, communes: pd.DataFrame
) -> pd.DataFrame:
    """Street, number, complement, batiment and identifiers of a commune's buildings."""
    n = len(frame)
    insee = str(row["insee"])
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    kind, hamlet = frame["kind"].to_numpy(), frame["hamlet"].to_numpy()
    centre = (row["centre"].x, row["centre"].y)
    streets = _Streets()
    street_of = np.full(n, -1)
    numero = np.zeros(n, dtype=np.int64)
    rep = [""] * n
    taken: set[str] = set()
    groups = _bourg_groups(x, y, np.flatnonzero(kind == BOURG), centre)
    for group, street in zip(groups, bourg_streets(rng, len(groups)), strict=True):
        s = streets.get(street)
        street_of[group] = s
        _number_sequence(rng, streets, s, group, numero, rep, True)
    hamlet_ids = sorted(set(hamlet[kind == HAMLET].tolist()))
    for h, name in zip(hamlet_ids, lieudit_names(rng, len(hamlet_ids), taken), strict=True):
        members = np.flatnonzero((kind == HAMLET) & (hamlet == h))
        cx, cy = x[members].mean(), y[members].mean()
        members = members[np.argsort(np.hypot(x[members] - cx, y[members] - cy), kind="stable")]
        s = streets.get(("Lieu-dit", name))
        street_of[members] = s
        _number_sequence(rng, streets, s, members, numero, rep, False)
    isolated = np.flatnonzero(kind == ISOLATED)
    neighbours = list(row["neighbours"])
    if neighbours:
        n_centres = communes["centre"].to_numpy()[neighbours]
        n_angles = np.array([math.atan2(p.y - centre[1], p.x - centre[0]) for p in n_centres])
        n_names = communes["nom"].to_numpy()[neighbours]
    on_route = rng.random(isolated.size) < (0.7 if neighbours else 0.0)
    lieudits = iter(lieudit_names(rng, int((~on_route).sum()), taken))
    for i, routed in zip(isolated.tolist(), on_route.tolist(), strict=True):
        if routed:
            angle = math.atan2(y[i] - centre[1], x[i] - centre[0])
            diff = np.abs((n_angles - angle + math.pi) % (2 * math.pi) - math.pi)
            s = streets.get(("Route", route_name(str(n_names[int(np.argmin(diff))]))))
            metric = max(1, int(round(math.hypot(x[i] - centre[0], y[i] - centre[1]))))
            numero[i] = streets.free_number(s, metric)
        else:
            s = streets.get(("Lieu-dit", next(lieudits)))
            numero[i] = streets.free_number(s, 1)
        street_of[i] = s
    step = max(1, min(10, 9990 // max(len(streets.names), 1)))
    street_codes = (rng.permutation(len(streets.names)) + 1) * step
    codes = street_codes[street_of]
    logements = frame["logements"].to_numpy()
    batiment = np.where(
        (logements >= 10) & (rng.random(n) < 0.3),
        np.array([f"BAT {c}" for c in rng.choice(list("ABC"), size=n)]),
        "",
    )
    out = frame.copy()
    out["type_voie"] = [streets.names[s][0] for s in street_of]
    out["nom_voie"] = [streets.names[s][1] for s in street_of]
    out["street_code"] = codes
    out["numero"] = numero
    out["rep"] = rep
    out["batiment"] = batiment
    out["code_adresse"] = [
        code_adresse(insee, int(c), int(num), r)
        for c, num, r in zip(codes, numero, rep, strict=True)
    ]
    out["imb"] = imb_identifiers(rng, insee, n)
    out["code_postal"] = row["code_postal"]
    out["commune"] = row["nom"]
    return out
