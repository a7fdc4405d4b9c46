"""Plausible French street and lieu-dit names for the demo addresses."""

from __future__ import annotations

import numpy as np

CENTRE_STREETS = [
    ("Place", "de la Mairie"),
    ("Rue", "de l'Église"),
    ("Rue", "Grande"),
    ("Place", "de l'Église"),
    ("Rue", "du Château"),
    ("Rue", "des Écoles"),
    ("Place", "du Foirail"),
    ("Rue", "de la Poste"),
]
STREET_TYPES = ["Rue", "Rue", "Rue", "Impasse", "Allée", "Chemin", "Avenue", "Place"]
STREET_NAMES = [
    "des Chênes",
    "des Tilleuls",
    "du Moulin",
    "de la Fontaine",
    "du Lavoir",
    "des Jardins",
    "du Four",
    "des Lilas",
    "du Puits",
    "des Platanes",
    "du Stade",
    "de la Libération",
    "du 8 Mai 1945",
    "du 19 Mars 1962",
    "Jean Jaurès",
    "Victor Hugo",
    "Léon Gambetta",
    "Georges Clemenceau",
    "Louis Pasteur",
    "Émile Zola",
    "Jean Moulin",
    "de la Halle",
    "du Pont",
    "des Acacias",
    "des Vignes",
    "des Noyers",
    "des Pins",
    "du Couvent",
    "du Marché",
    "de la Tour",
    "Haute",
    "Basse",
    "du Barry",
    "des Cordeliers",
    "de la Gare",
    "du Lot",
    "du Célé",
    "de la Dordogne",
    "des Causses",
    "du Quercy",
    "des Truffières",
    "des Cerisiers",
    "des Peupliers",
    "des Érables",
    "du Calvaire",
    "de la Croix",
    "du Prieuré",
    "des Remparts",
    "du Mercadial",
    "de la Coste",
    "des Sources",
    "Clément Marot",
    "Joachim Murat",
    "Léo Ferré",
    "Champollion",
    "Jean-Baptiste Delpech",
    "Pierre Mendès France",
    "de la République",
    "du Général de Gaulle",
    "des Tanneurs",
    "des Fargues",
    "du Pigeonnier",
    "des Bouriettes",
    "de la Garenne",
    "des Combes",
    "du Verger",
    "des Genêts",
    "des Églantiers",
    "des Lauriers",
    "du Soleil Levant",
    "des Écureuils",
    "des Mésanges",
    "des Chardonnerets",
    "de la Vigne",
    "du Ruisseau",
    "de la Rivière",
    "des Prés",
    "du Bois",
    "de la Forêt",
    "des Fontanelles",
    "de Lacoste",
    "des Grèzes",
    "de la Pélissarie",
    "des Cadourques",
    "Saint-Jacques",
    "Saint-Martin",
    "Notre-Dame",
    "de l'Hôpital",
    "de la Mutualité",
    "des Artisans",
]
LIEUDIT_HEADS = [
    "Le Mas",
    "La Borie",
    "Les Bories",
    "Le Pech",
    "La Combe",
    "Le Bos",
    "La Bastide",
    "Le Cayrou",
    "La Croix",
    "Le Moulin",
    "La Grange",
    "Les Granges",
    "Le Bouyssou",
    "La Garrigue",
    "Le Causse",
    "La Font",
    "Le Puech",
    "La Roque",
    "Le Mazet",
    "Las Planques",
    "La Serre",
    "Le Cap",
    "La Devèze",
    "Les Cazals",
    "Le Claux",
    "La Caze",
    "Le Theil",
    "La Bouysse",
    "Le Cammas",
    "La Plane",
    "Le Bousquet",
    "La Pradelle",
    "Le Rouquet",
    "La Vayssière",
    "Le Colombier",
    "La Capelle",
    "Le Pouget",
    "La Fage",
    "Les Landes",
]
LIEUDIT_TAILS = [
    "",
    "",
    "",
    "Haut",
    "Bas",
    "Haute",
    "Basse",
    "Vieux",
    "Neuf",
    "Grand",
    "Petit",
    "de Pierre",
    "du Roc",
    "de Jean",
    "del Bosc",
    "de Lacoste",
    "de Marty",
    "de Vidal",
    "de Delpech",
    "de Lacombe",
    "de Cassagne",
    "de Lagarde",
    "de Bru",
    "de Fabre",
    "de Laval",
    "de Gaillard",
    "Redon",
    "Blanc",
    "Nègre",
    "de la Vigne",
    "des Landes",
]
TOPONYMS = [
    "Lacoste",
    "Lafage",
    "Lagarde",
    "Labro",
    "Lasbouygues",
    "Cantegrel",
    "Pechméja",
    "Combarieu",
    "Lasserre",
    "Mirabel",
    "Cabanac",
    "Cayrac",
    "Puylagarde",
    "Lacam",
    "Lagrèze",
    "Lafon",
    "Fonbelle",
    "Peyrelevade",
    "Mazières",
    "Boussac-Haut",
    "Roumégous",
    "Carbonnières",
    "Lascombes",
    "Salgues",
    "Pradals",
    "Marsal",
    "Cantagrel",
    "Bournazel",
    "Malbouysse",
    "Pechpeyrou",
    "Lacapelle",
    "Lestrade",
    "Rouffiac",
    "Crozat",
    "Laborie",
    "Mondoumerc",
    "Bouxal",
    "Moussac",
    "Escayrac",
    "Auriac",
    "Camy",
    "Lauzès-Bas",
    "Le Bouscal",
    "Cavagnac",
    "Pélissié",
    "Teulières",
    "Cazelles",
    "Fontanes-Bas",
]


def lieudit_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    """Unique lieu-dit names (not in taken), Quercy-style."""
    names: list[str] = []
    attempts = 0
    while len(names) < count:
        attempts += 1
        if rng.random() < 0.35:
            name = str(TOPONYMS[rng.integers(len(TOPONYMS))])
            if attempts > 200:
                name = f"{name} {LIEUDIT_TAILS[rng.integers(3, len(LIEUDIT_TAILS))]}"
        else:
            head = LIEUDIT_HEADS[rng.integers(len(LIEUDIT_HEADS))]
            tail = LIEUDIT_TAILS[rng.integers(len(LIEUDIT_TAILS))]
            name = f"{head} {tail}".strip()
        if attempts > 5000:
            name = f"{name} {attempts}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def bourg_streets(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    """Unique (type, name) pairs for the streets of a bourg, central ones first."""
    streets: list[tuple[str, str]] = list(CENTRE_STREETS[: min(count, 3)])
    seen = set(streets)
    extra = [s for s in CENTRE_STREETS[3:]]
    order = rng.permutation(len(extra))
    attempts = 0
    while len(streets) < count:
        attempts += 1
        if order.size and rng.random() < 0.3:
            candidate = extra[int(order[0])]
            order = order[1:]
        else:
            candidate = (
                STREET_TYPES[rng.integers(len(STREET_TYPES))],
                STREET_NAMES[rng.integers(len(STREET_NAMES))],
            )
        if attempts > 4000:
            candidate = ("Lotissement", f"{candidate[1]} {attempts}")
        if candidate not in seen:
            seen.add(candidate)
            streets.append(candidate)
    return streets[:count]


def route_name(neighbour: str) -> str:
    """'de Cahors', "d'Assier", 'du Vigan'… from a neighbouring commune's name."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if neighbour.startswith(article):
            return contracted + neighbour[len(article) :]
    if neighbour[:1] in "AEIOUYÉÈÂ":
        return "d'" + neighbour
    return "de " + neighbour
