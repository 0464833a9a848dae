"""The benchmark as one self-contained offline HTML page: pictures first, then tables.

Every PNG is embedded as a base64 ``data:`` URI and the style sheet is inline, so the file can
be mailed, archived next to a synthetic release, or opened on a machine without network: it
references no CDN, font, script or other file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

# Per-model figures in reading order, with what a reader should look for.
MODEL_FIGURES: list[tuple[str, str]] = [
    ("marginals.png", "Marginals: real (blue) vs synthetic (red) density or level shares per column."),
    ("pairs.png", "Dependence difference per column pair (1 − Trend score); white = reproduced."),
    ("projection.png", "Real and synthetic customers on the real data's first two principal axes."),
    ("dcr.png", "Distance to the closest training customer: synthetic rows should not sit closer "
                "than unseen real (holdout) customers do."),
    ("shapes.png", "Per-column shape score (1 − KS or 1 − TVD), weakest first."),
    ("profile.png", "Consumption profile: mean and 10–90 % band per period."),
    ("series_bands.png", "Median and 10–90 % band of consumption by heating type."),
    ("series_curves.png", "Random real (top) and synthetic (bottom) customers' series."),
]
OVERVIEW_FIGURES: list[tuple[str, str]] = [
    ("ranking.png", "Meta-metric and pillar scores per model (1 = as good as unseen real data)."),
    ("pareto.png", "Fidelity vs privacy pillar; the dashed line is the generators' Pareto front."),
]

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1400px;
color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.grid{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
figure{margin:0;max-width:100%}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555;max-width:60em}
table{border-collapse:collapse;font-size:.8em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
td.leak{color:#b2182b;font-weight:600;text-align:left}td.ok{color:#1b7837;text-align:left}
nav a{margin-right:1em}
"""


def data_uri(path: Path) -> str:
    """The PNG at ``path`` as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _figure(path: Path, caption: str, alt: str) -> str:
    return (f'<figure><img src="{data_uri(path)}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _cell(v: object) -> str:
    if isinstance(v, float):
        if pd.isna(v):
            return ""
        return f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"
    return html.escape(str(v))


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            cls = ""
            if c == "privacy.verdict":
                cls = ' class="leak"' if str(v).startswith("LEAK") else ' class="ok"'
            cells.append(f"<td{cls}>{_cell(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _studies_section(table: pd.DataFrame, ceilings: dict[str, float | None]) -> list[str]:
    """Studies first: what a user keeps a synthetic portfolio for is to get the same answers."""
    columns = [c for c in table.columns if c.startswith("study.") and c.endswith(".conclusions_preserved")]
    if not columns:
        return []
    shown = table[["model", *[c for c in ("overall",) if c in table], *columns]].copy()
    ceiling = {"model": "representation ceiling (not ranked)"}
    ceiling.update({c: ceilings.get(c.split(".")[1]) for c in columns})
    shown = pd.concat([shown, pd.DataFrame([ceiling])], ignore_index=True)
    shown.columns = [c.removeprefix("study.").removesuffix(".conclusions_preserved") + ": conclusions kept"
                     if c in columns else c for c in shown.columns]
    return ["<h2>Studies: the same answers as real data?</h2>",
            "<p>Share of each declared study's estimates (reports/usecases/) on which a model's portfolio "
            "reaches the real conclusion: interval overlapping the real one, same sign. The representation "
            "ceiling is the real holdout with its series encoded and decoded by the models' series "
            "representation: what a perfect generator of those columns would keep.</p>", _table(shown)]


def render_report(
    table: pd.DataFrame,
    figures_dir: Path,
    models: Sequence[str],
    summary_columns: Sequence[str],
    detail_columns: Sequence[str] = (),
    title: str = "acacia benchmark",
    study_ceilings: dict[str, float | None] | None = None,
) -> str:
    """The HTML page: the studies' conclusions kept per model (with the representation ceiling of
    each study, ``study_ceilings``), overview figures, privacy verdicts, one section of figures
    per model, then the ranking table (``summary_columns``) and the detailed metrics
    (``detail_columns``).

    ``table`` is the compare stage's ranked table (a ``model`` column); figures are read from
    ``figures_dir`` (overview) and ``figures_dir/<model>/`` (per model); missing ones are skipped.
    """
    figures_dir = Path(figures_dir)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Every metric is rescaled to [0, 1] between a declared worst case (0) and the "
        "<code>holdout</code> reference (1: real customers no generator saw), averaged into the "
        "pillars, and the pillars combined by a weighted geometric mean (<code>overall</code>). "
        "Pictures first; the numbers behind them follow.</p>",
        "<nav>" + "".join(f'<a href="#model-{html.escape(m)}">{html.escape(m)}</a>' for m in models) + "</nav>",
        *_studies_section(table, study_ceilings or {}),
        "<h2>Across models</h2>", '<div class="grid">',
    ]
    for name, caption in OVERVIEW_FIGURES:
        if (figures_dir / name).is_file():
            parts.append(_figure(figures_dir / name, caption, name.removesuffix(".png")))
    parts.append("</div>")
    if "privacy.verdict" in table:
        parts += ["<h2>Privacy verdict</h2>",
                  "<p>Each attack flags a model against a threshold read from what unseen real "
                  "customers score (<code>src/acacia/evaluation/verdict.py</code>).</p>",
                  _table(table[["model", "privacy.verdict"]])]
    for m in models:
        parts += [f'<h2 id="model-{html.escape(m)}">{html.escape(m)}</h2>', '<div class="grid">']
        row = table[table["model"] == m]
        if len(row) and "overall" in row:
            parts.insert(len(parts) - 1, f"<p>overall {_cell(float(row['overall'].iloc[0]))}</p>")
        for name, caption in MODEL_FIGURES:
            path = figures_dir / m / name
            if path.is_file():
                parts.append(_figure(path, caption, f"{m} {name.removesuffix('.png')}"))
        parts.append("</div>")
    parts += ["<h2>Ranking</h2>", _table(table[[c for c in summary_columns if c in table]])]
    detail = [c for c in detail_columns if c in table]
    if detail:
        parts += ["<h2>All metrics</h2>", _table(table[["model", *detail]].set_index("model").T.reset_index()
                                                 .rename(columns={"index": "metric"}))]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
