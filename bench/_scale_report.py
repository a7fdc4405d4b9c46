"""Table, goals, projection to 100 % and plot of `bench/scale.py` (French output)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

GOALS = {
    "fortnight_ratio": "import de quinzaine ≤ 3x le COPY brut, à chaque taille",
    "raccordables_ms": "raccordables tous niveaux < 100 ms à 10 %, calculés à froid",
    "raccordables_served_ms": "raccordables tous niveaux < 100 ms à 10 %, servis par l'API",
    "quand_p99_ms": "« quand ? » p99 < 20 ms à 10 %",
    "cube_s": "à 100 % : rafraîchissement complet du cube < 60 s",
    "raccordables_national_asof_ms": "à 100 % : agrégat national à une date passée < 1 s",
}
# key, label, format
METRICS = [
    ("locaux", "Locaux", "{:,.0f}"),
    ("lignes", "Lignes IPE", "{:,.0f}"),
    ("pm", "PM", "{:,.0f}"),
    ("generation_s", "Génération (s)", "{:.1f}"),
    ("reference_s", "Référentiel communes (s)", "{:.1f}"),
    ("gracethd_s", "Import GraceTHD (s)", "{:.1f}"),
    ("first_copy_s", "COPY brut, 1er instantané (s)", "{:.2f}"),
    ("first_s", "Premier chargement IPE (s)", "{:.1f}"),
    ("lines_per_s", "  lignes/s", "{:,.0f}"),
    ("first_ratio", "  rapport au COPY", "{:.1f}x"),
    ("fortnight_copy_s", "COPY brut, 2e instantané (s)", "{:.2f}"),
    ("fortnight_s", "Import de quinzaine (s)", "{:.1f}"),
    ("fortnight_ratio", "  rapport au COPY", "{:.1f}x"),
    ("cube_s", "Cube, rafraîchissement complet (s)", "{:.2f}"),
    ("raccordables_ms", "Raccordables tous niveaux, JSON de l'API (ms)", "{:.1f}"),
    ("raccordables_dicts_ms", "  mêmes lignes en objets Python (ms)", "{:.1f}"),
    ("raccordables_warm_s", "  « cache warm » des raccordables, 7 questions (s)", "{:.2f}"),
    ("raccordables_served_ms", "  servis par l'API après « cache warm » (ms)", "{:.1f}"),
    ("raccordables_asof_ms", "Raccordables au 1er instantané (ms)", "{:.1f}"),
    ("raccordables_national_asof_ms", "  niveaux nationaux seuls, même date (ms)", "{:.1f}"),
    ("quand_p50_ms", "« Quand ? » p50 (ms)", "{:.2f}"),
    ("quand_p99_ms", "« Quand ? » p99 (ms)", "{:.2f}"),
    *[(f"tile_z{z}_p99_ms", f"Tuile prises z{z} p99 (ms)", "{:.1f}") for z in range(10, 15)],
    ("elu_page_ms", "Page élu à froid, plus grande commune (ms)", "{:.0f}"),
    ("elu_page_warm_ms", "Page élu dans « cache warm » (ms)", "{:.0f}"),
    ("db_mb", "Base sur disque (Mo)", "{:,.0f}"),
]
PROJECTED = ("generation_s", "gracethd_s", "first_copy_s", "first_s", "fortnight_s", "cube_s",
             "raccordables_ms", "raccordables_dicts_ms", "raccordables_asof_ms", "raccordables_national_asof_ms", "quand_p99_ms",
             "elu_page_ms", "elu_page_warm_ms", "db_mb")  # fmt: skip
PLOTTED = {
    "Génération": "generation_s",
    "Premier chargement": "first_s",
    "COPY brut": "first_copy_s",
    "Import de quinzaine": "fortnight_s",
    "Cube complet": "cube_s",
    "Import GraceTHD": "gracethd_s",
    "Raccordables tous niveaux": "raccordables_ms",
    "Page élu à froid": "elu_page_ms",
}


def exponent(rows: list[dict[str, Any]], key: str) -> float | None:
    """Slope of log(cost) against log(locaux) between the two largest measured sizes."""
    if len(rows) < 2:
        return None
    a, b = rows[-2], rows[-1]
    if min(a[key], b[key], a["locaux"], b["locaux"]) <= 0 or a["locaux"] == b["locaux"]:
        return None
    return math.log(b[key] / a[key]) / math.log(b["locaux"] / a["locaux"])


def project(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Figures at 100 % from the two largest fractions (cost ∝ locaux^exponent)."""
    if len(rows) < 2:
        return None
    last = rows[-1]
    locaux = last["locaux"] / last["fraction"]
    out: dict[str, Any] = {"fraction": 1.0, "locaux": locaux, "exposants": {}}
    for key in PROJECTED:
        k = exponent(rows, key)
        if k is None:
            continue
        out["exposants"][key] = round(k, 2)
        out[key] = last[key] * (locaux / last["locaux"]) ** max(k, 0.0)
    return out


def _cell(row: dict[str, Any] | None, key: str, fmt: str) -> str:
    if row is None or key not in row or row[key] is None:
        return "—"
    return fmt.format(row[key]).replace(",", "\u202f")


def print_table(rows: list[dict[str, Any]], projected: dict[str, Any] | None) -> None:
    """The figures per fraction (and projected at 100 %), then the goals."""
    heads = [f"{r['fraction'] * 100:g} %" for r in rows] + (
        ["100 % (projeté)"] if projected else []
    )
    cols = [*rows, *([projected] if projected else [])]
    width = max(len(label) for _, label, _ in METRICS) + 2
    print("\n" + "Mesure".ljust(width) + "".join(h.rjust(16) for h in heads))
    for key, label, fmt in METRICS:
        print(label.ljust(width) + "".join(_cell(c, key, fmt).rjust(16) for c in cols))
    if projected:
        slopes = ", ".join(f"{k} {v}" for k, v in projected["exposants"].items())
        print(f"\nExposants (coût ∝ locaux^k, entre les deux plus grandes tailles) : {slopes}")
    print("\nObjectifs :")
    for key, goal in GOALS.items():
        print(f"  {goal} : {_verdict(rows, projected, key)}")


def _verdict(rows: list[dict[str, Any]], projected: dict[str, Any] | None, key: str) -> str:
    limits = {"fortnight_ratio": 3, "raccordables_ms": 100, "raccordables_served_ms": 100,
              "quand_p99_ms": 20, "cube_s": 60,
              "raccordables_national_asof_ms": 1000}  # fmt: skip
    limit = limits[key]
    if key == "fortnight_ratio":
        values = [r[key] for r in rows]
        ok = all(v <= limit for v in values)
        return ("atteint" if ok else "MANQUÉ") + " (" + ", ".join(f"{v:.1f}x" for v in values) + ")"
    if key in ("raccordables_ms", "raccordables_served_ms", "quand_p99_ms"):
        at10 = [r for r in rows if abs(r["fraction"] - 0.1) < 1e-9]
        if not at10:
            return "non mesuré (pas de fraction 0,1)"
        v = at10[0][key]
        return f"{'atteint' if v < limit else 'MANQUÉ'} ({v:.1f} ms à 10 %)"
    full = [r for r in rows if r["fraction"] >= 1]
    source, note = (
        (full[0], "mesuré") if full else (projected, "projeté") if projected else (None, "")
    )
    if source is None or key not in source:
        return "non mesuré"
    v = source[key]
    unit = "s" if key == "cube_s" else "ms"
    return f"{'atteint' if v < limit else 'MANQUÉ'} ({v:.1f} {unit} à 100 %, {note})"


def write_plot(
    rows: list[dict[str, Any]], projected: dict[str, Any] | None, path: Path
) -> Path | None:
    """Log-log plot of the costs against locaux; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for label, key in PLOTTED.items():
        scale = 1000 if key.endswith("_ms") else 1
        xs = [r["locaux"] for r in rows]
        ys = [r[key] / scale for r in rows]
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        if projected and key in projected:
            ax.plot([xs[-1], projected["locaux"]], [ys[-1], projected[key] / scale], ls="--",
                    color=line.get_color())  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Locaux (France synthétique)")
    ax.set_ylabel("Secondes")
    ax.set_title("Coût contre taille (tirets : projection à 100 %)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
