"""The run's ``index.html``: one static page a user opens straight from the folder.

No server, no scripts, no external URLs: every link is relative, so the run folder can
be copied or archived and the page still works. It shows, top to bottom, what a user
asks of a run: what it is (name, experiment, schema), how it is doing (the latest
evaluation table and losses, the curves) and what it makes (the sample grids, newest
first, older steps folded away so a long run stays quick to open).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from category.files import write_atomic

from .metrics import eval_table, is_number, latest, loss_group, read_metrics

OPEN_STEPS = 3
"""How many of the newest sample steps are shown unfolded."""

STEP_DIR = re.compile(r"^step-(\d+)$")

CSS = """
:root { color-scheme: light dark; --fg: #1d2025; --muted: #68707a; --bg: #fff;
  --card: #f4f6f8; --line: #dfe3e8; --accent: #2f6fde; --bad: #c62828; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7eb; --muted: #9aa3ad;
  --bg: #15171a; --card: #1f2226; --line: #32363c; --accent: #7aa7ff; --bad: #ff7b72; } }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 20px 48px; }
h1 { font-size: 1.7rem; margin: 0; }
h1 .experiment { color: var(--muted); font-weight: 400; }
h2 { font-size: 1.15rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem;
  border-bottom: 1px solid var(--line); }
h2 small, h3 small { color: var(--muted); font-weight: 400; font-size: .85rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .5rem; }
a { color: var(--accent); }
.meta { color: var(--muted); margin: .3rem 0 0; }
.meta b { color: var(--fg); font-weight: 600; }
nav { margin-top: .6rem; font-size: .9rem; }
nav a { margin-right: 1rem; }
.note { color: var(--muted); font-style: italic; }
.columns { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.columns > div { flex: 1 1 340px; min-width: 0; }
.columns h3:first-child { margin-top: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .28rem .8rem; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: var(--card); font-weight: 600; }
td.bad { color: var(--bad); font-weight: 600; }
td.name { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9rem; }
pre { background: var(--card); padding: .8rem 1rem; border-radius: 6px; overflow: auto;
  margin: 0; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
img.schema { display: block; max-width: 100%; height: auto; margin-top: .6rem;
  background: #fff; border: 1px solid var(--line); border-radius: 6px; }
img.curves { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.grids { display: flex; flex-wrap: wrap; gap: 20px; }
figure { margin: 0; max-width: 100%; }
figure .scroll { overflow-x: auto; }
figcaption { font-weight: 600; font-size: .9rem; margin-bottom: .25rem; }
img.sample { display: block; image-rendering: pixelated; border: 1px solid var(--line); }
details { margin-top: 1.4rem; }
summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
"""


def esc(value) -> str:
    """Text made safe for HTML element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def href(relative: str) -> str:
    """A relative URL for a path inside the run folder (each part percent-quoted).

    >>> href("samples/step-000100/A B.png")
    'samples/step-000100/A%20B.png'
    """
    return esc("/".join(quote(part) for part in relative.split("/")))


def fmt(value: float) -> str:
    """A metric as a user reads it: four significant digits; NaN and inf spelt out.

    >>> fmt(0.123456), fmt(12345.6), fmt(float("nan")), fmt(3)
    ('0.1235', '1.235e+04', 'NaN', '3')
    """
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return f"{value:.4g}"


def _cell(value: float, extra: str = "") -> str:
    bad = isinstance(value, float) and not math.isfinite(value)
    classes = " ".join(c for c in (extra, "bad" if bad else "") if c)
    return f'<td class="{classes}">' if classes else "<td>"


def _duration(seconds: float) -> str:
    """``3725.0`` → ``1h 2m 5s``."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m}m {s}s" if h else (f"{m}m {s}s" if m else f"{s}s")


def _when(iso) -> str:
    """An ISO time as ``2025-01-01 12:00:00`` (the text itself if it does not parse)."""
    try:
        return datetime.fromisoformat(str(iso)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return str(iso)


def read_run_json(run_dir: Path) -> dict | None:
    """``run.json`` as a dict, or ``None`` when it is missing or unreadable."""
    try:
        data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def schema_objects(schema_text: str) -> list[str]:
    """Object names in declaration order, read from the schema text (for ordering grids).

    >>> schema_objects("schema S\\nobject A, B  # two\\nobject BxC = B * C\\nf : A -> B\\n")
    ['A', 'B', 'BxC']
    """
    names: list[str] = []
    for line in schema_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("object "):
            declared = line.removeprefix("object ").split("=", 1)[0]
            names += [n.strip() for n in declared.split(",") if n.strip()]
    return names


def sample_steps(run_dir: Path, objects: list[str]) -> list[tuple[int, list[Path]]]:
    """``(step, [png, …])`` for each ``samples/step-*`` folder, newest first; each
    step's grids in the schema's object order, then any others by name."""
    samples = run_dir / "samples"
    found = []
    if samples.is_dir():
        for folder in samples.iterdir():
            match = STEP_DIR.match(folder.name)
            if match and folder.is_dir():
                pngs = [p for p in folder.iterdir() if p.suffix.lower() == ".png" and
                        p.is_file() and not p.name.startswith(".")]
                order = {name: i for i, name in enumerate(objects)}
                pngs.sort(key=lambda p: (order.get(p.stem, len(order)), p.name))
                if pngs:
                    found.append((int(match.group(1)), pngs))
    found.sort(key=lambda item: item[0], reverse=True)
    return found


def _image_tag(run_dir: Path, png: Path, css_class: str, alt: str, lazy: bool) -> str:
    rel = png.relative_to(run_dir).as_posix()
    size = ""
    try:
        with Image.open(png) as image:
            size = f' width="{image.width}" height="{image.height}"'
    except OSError:
        pass
    loading = ' loading="lazy" decoding="async"' if lazy else ""
    return f'<img class="{css_class}" src="{href(rel)}" alt="{esc(alt)}"{size}{loading}>'


def _eval_section(records: list[dict], run: dict | None) -> list[str]:
    step, values = latest(records, "eval/")
    out = ['<section id="eval">']
    if not values:
        out += ["<h2>Evaluation</h2>", '<p class="note">no evaluation yet</p>', "</section>"]
        return out
    rows, columns, cells = eval_table(values)
    at = f" <small>at step {esc(step)}</small>" if step is not None else ""
    out.append(f"<h2>Evaluation{at}</h2>")
    ema = ((run or {}).get("trainer") or {}).get("ema")
    if is_number(ema) and ema > 0:  # the trainer evaluates what the run yields
        out.append(f'<p class="note">of the moving average of the arrows\' weights (ema '
                   f'{esc(ema)}), as are the sample grids</p>')
    out += ["<table>", "<thead><tr><th></th>"]
    out += [f"<th>{esc(c)}</th>" for c in columns]
    out += ["</tr></thead>", "<tbody>"]
    for row in rows:
        out.append(f'<tr><td class="name">{esc(row)}</td>')
        for column in columns:
            if (row, column) in cells:
                value = cells[row, column]
                out.append(f"{_cell(value)}{esc(fmt(value))}</td>")
            else:
                out.append("<td></td>")
        out.append("</tr>")
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _losses_table(records: list[dict]) -> list[str]:
    step, values = latest(records, "loss/")
    if not values:
        return ['<p class="note">no losses logged yet</p>']
    at = f" <small>at step {esc(step)}</small>" if step is not None else ""
    out = [f"<h3>Latest{at}</h3>", "<table>", "<thead><tr><th>loss</th><th>value</th>"
           "</tr></thead>", "<tbody>"]
    order = ("adversarial", "equations", "critics", "totals", "other losses")
    keys = sorted(values, key=lambda k: order.index(loss_group(k)))
    for key in keys:
        value = values[key]
        out.append(f'<tr><td class="name">{esc(key.removeprefix("loss/"))}</td>'
                   f"{_cell(value)}{esc(fmt(value))}</td></tr>")
    out += ["</tbody>", "</table>"]
    return out


def experiment_name(experiment: object) -> str:
    """How the page names a run's experiment: a built-in's name, a file's path (a schema
    file run: its schema file's)."""
    if isinstance(experiment, dict):
        return str(experiment.get("file") or "schema file")
    return str(experiment) if experiment else ""


def _networks_table(rows: object) -> list[str]:
    """The networks ``cdl train`` chose (``run.json``'s ``networks``), as a table."""
    if not isinstance(rows, list) or not rows:
        return []
    out = ["<h3>Networks</h3>", "<table>", "<thead><tr><th></th><th>dom → cod</th>"
           "<th>network</th><th>parameters</th></tr></thead>", "<tbody>"]
    for r in rows:
        if isinstance(r, dict):
            count = r.get("parameters")
            count = f"{count:,}" if isinstance(count, int) else ""
            out.append(f'<tr><td class="name">{esc(r.get("name", ""))}</td>'
                       f'<td>{esc(r.get("dom", ""))} → {esc(r.get("cod", ""))}</td>'
                       f'<td>{esc(r.get("network", ""))}</td><td>{esc(count)}</td></tr>')
    return out + ["</tbody>", "</table>"]


def _settings(run: dict) -> dict:
    """What the settings section shows: a schema file run's data, latents and spaces (its
    schema is shown above), the options and the trainer's settings."""
    out = {}
    experiment = run.get("experiment")
    if isinstance(experiment, dict):
        out["experiment"] = {k: v for k, v in experiment.items() if k != "schema"}
    return {**out, "options": run.get("options"), "trainer": run.get("trainer")}


def _meta_line(run: dict | None, records: list[dict]) -> str:
    parts = []
    if run is not None:
        experiment = experiment_name(run.get("experiment"))
        parts.append(f"experiment <b>{esc(experiment) if experiment else '—'}</b>")
        if run.get("started"):
            parts.append(f"started <b>{esc(_when(run['started']))}</b>")
    last = next((r for r in reversed(records) if is_number(r.get("step"))), None)
    if last is not None:
        parts.append(f"step <b>{esc(fmt(last['step']))}</b>")
    timed = next((r for r in reversed(records) if is_number(r.get("time"))), None)
    if timed is not None and math.isfinite(timed["time"]):
        parts.append(f"elapsed <b>{esc(_duration(timed['time']))}</b>")
    for key, label in (("steps_per_s", "steps/s"), ("lr", "lr")):
        record = next((r for r in reversed(records) if is_number(r.get(key))), None)
        if record is not None:
            parts.append(f"{label} <b>{esc(fmt(record[key]))}</b>")
    return " · ".join(parts)


def _samples_section(run_dir: Path, steps: list[tuple[int, list[Path]]]) -> list[str]:
    out = ['<section id="samples">', "<h2>Samples <small>newest first</small></h2>"]
    if not steps:
        return out + ['<p class="note">no samples yet</p>', "</section>"]
    out.append('<p class="meta">each column follows one sample along the paths named at '
               "its left</p>")

    def one_step(step: int, pngs: list[Path], lazy: bool) -> list[str]:
        lines = [f'<h3 id="step-{step}">step {esc(step)}</h3>', '<div class="grids">']
        for png in pngs:
            rel = png.relative_to(run_dir).as_posix()
            tag = _image_tag(run_dir, png, "sample", f"{png.stem} at step {step}", lazy)
            lines.append(f"<figure><figcaption>{esc(png.stem)}</figcaption>"
                         f'<div class="scroll"><a href="{href(rel)}">{tag}</a></div></figure>')
        return lines + ["</div>"]

    for i, (step, pngs) in enumerate(steps[:OPEN_STEPS]):
        out += one_step(step, pngs, lazy=i > 0)
    older = steps[OPEN_STEPS:]
    if older:
        out.append(f"<details><summary>{len(older)} older step{'s' if len(older) > 1 else ''}"
                   f" ({esc(older[0][0])} … {esc(older[-1][0])})</summary>")
        for step, pngs in older:
            out += one_step(step, pngs, lazy=True)
        out.append("</details>")
    return out + ["</section>"]


def render_index(run_dir: str | os.PathLike[str]) -> str:
    """The HTML of :func:`write_index`, without writing it."""
    run_dir = Path(run_dir)
    name = run_dir.resolve().name
    run = read_run_json(run_dir)
    records = read_metrics(run_dir / "metrics.jsonl")
    schema = (run or {}).get("schema") or ""
    experiment = experiment_name((run or {}).get("experiment"))
    short = Path(experiment).name if experiment else ""
    title = f"{name} — {short}" if short else name

    links = [("#eval", "evaluation"), ("#losses", "losses"), ("#samples", "samples")]
    links += [(f, f) for f in ("run.json", "metrics.jsonl") if (run_dir / f).is_file()]
    out = ["<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(title)} · cdl</title>", f"<style>{CSS}</style>", "</head>",
           "<body>", "<main>", "<header>"]
    heading = esc(name) + (f' <span class="experiment">— {esc(short)}</span>' if short else "")
    out += [f"<h1>{heading}</h1>", f'<p class="meta">{_meta_line(run, records)}</p>']
    if run is None:
        out.append('<p class="note">run.json is missing or unreadable</p>')
    out.append("<nav>" + "".join(f'<a href="{href(u) if not u.startswith("#") else u}">'
                                 f"{esc(t)}</a>" for u, t in links) + "</nav>")
    out.append("</header>")

    out += _eval_section(records, run)

    out += ['<section id="losses">', "<h2>Losses</h2>", '<div class="columns">', "<div>"]
    out += _losses_table(records)
    out += ["</div>", "<div>", "<h3>Schema</h3>",
            f"<pre>{esc(schema.rstrip())}</pre>" if schema else
            '<p class="note">no schema recorded</p>']
    if (run_dir / "schema.png").is_file():  # category.drawing.draw(S, run_dir / "schema.png")
        out.append(f'<a href="{href("schema.png")}">'
                   + _image_tag(run_dir, run_dir / "schema.png", "schema", "the schema drawn",
                                False) + "</a>")
    out += _networks_table((run or {}).get("networks"))
    out += ["</div>", "</div>"]
    if (run_dir / "curves.png").is_file():
        out += ["<h3>Curves</h3>", f'<a href="{href("curves.png")}">'
                + _image_tag(run_dir, run_dir / "curves.png", "curves", "loss curves", False)
                + "</a>"]
    out.append("</section>")

    objects = schema_objects(schema) if isinstance(schema, str) else []
    out += _samples_section(run_dir, sample_steps(run_dir, objects))

    if run is not None and (run.get("options") or run.get("trainer")):
        out += ['<section id="settings">', "<h2>Settings</h2>", "<details>",
                "<summary>experiment options and trainer settings</summary>",
                "<pre>" + esc(json.dumps(_settings(run), indent=2, default=str)) + "</pre>",
                "</details>", "</section>"]
    written = datetime.now().astimezone().isoformat(timespec="seconds")
    out += [f"<footer>page written {esc(written)} by cdl</footer>", "</main>", "</body>",
            "</html>", ""]
    return "\n".join(out)


def write_index(run_dir: str | os.PathLike[str]) -> Path:
    """Write ``run_dir/index.html`` (atomically) from the run folder and return its path.

    Reads ``run.json``, ``metrics.jsonl``, ``curves.png`` and ``samples/step-*/*.png``
    as they are now; anything missing (a run that has just started) is said so on the
    page rather than raised. Call :func:`~runtime.report.plot_curves` first to refresh
    the curves it shows. All text is HTML-escaped; links are relative to the folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise NotADirectoryError(f"write_index: run folder {str(run_dir)!r} does not exist")
    return write_atomic(run_dir / "index.html", render_index(run_dir).encode("utf-8"))
