import json
import math
import os
import stat
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
import torch
from PIL import Image

from runtime.report import plot_curves, save_grid, write_index
from runtime.report.curves import curves_figure
from runtime.report.grid import PAD, cell_scale
from runtime.report.metrics import read_metrics, series, trim_metrics

# --- save_grid -------------------------------------------------------------------------


def images(n=4, c=3, h=32, w=32, value=0.0):
    return torch.full((n, c, h, w), value)


def test_grid_size_follows_samples_rows_and_scale(tmp_path):
    rows = [("x", images(5)), ("f(x)", images(5)), ("f.g(x)", images(5))]
    path = save_grid(rows, tmp_path / "g.png", labels=False)
    s = cell_scale(32, 32)
    assert s == 2  # 32x32 is enlarged to 64 px cells
    with Image.open(path) as im:
        assert im.size == (PAD + 5 * (32 * s + PAD), PAD + 3 * (32 * s + PAD))
    with Image.open(save_grid(rows, tmp_path / "s3.png", labels=False, scale=3)) as im:
        assert im.size == (PAD + 5 * (96 + PAD), PAD + 3 * (96 + PAD))


def test_grid_wraps_samples_into_bands_of_nrow_columns(tmp_path):
    rows = [("x", images(5, h=8, w=8)), ("y", images(5, h=8, w=8))]
    with Image.open(save_grid(rows, tmp_path / "g.png", nrow=2, labels=False, scale=1)) as im:
        unwrapped = save_grid(rows, tmp_path / "u.png", labels=False, scale=1)
        with Image.open(unwrapped) as one_band:
            assert im.width == PAD + 2 * (8 + PAD) < one_band.width
            assert im.height > 3 * one_band.height - 3 * PAD  # three bands stacked


def test_grid_maps_minus_one_to_black_and_one_to_white(tmp_path):
    x = images(2, c=3, h=4, w=4, value=-1.0)
    x[1, :, 2, 3] = 1.0   # sample 1, pixel (row 2, column 3): white
    x[0, 0, 0, 0] = 0.0   # sample 0, top-left, red channel: mid grey
    path = save_grid([("x", x)], tmp_path / "g.png", labels=False, scale=1)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        assert im.getpixel((PAD, PAD)) == (128, 0, 0)
        assert im.getpixel((PAD + 1, PAD)) == (0, 0, 0)
        cell1 = PAD + 4 + PAD  # left edge of the second column
        assert im.getpixel((cell1 + 3, PAD + 2)) == (255, 255, 255)


def test_grid_promotes_grey_rows_when_a_row_is_colour(tmp_path):
    grey = images(1, c=1, h=2, w=2, value=1.0)
    colour = images(1, c=3, h=2, w=2, value=-1.0)
    with Image.open(save_grid([("g", grey), ("c", colour)], tmp_path / "m.png",
                              labels=False, scale=1)) as im:
        assert im.mode == "RGB"
        assert im.getpixel((PAD, PAD)) == (255, 255, 255)
        assert im.getpixel((PAD, PAD + 2 + PAD)) == (0, 0, 0)
    with Image.open(save_grid([("g", grey)], tmp_path / "l.png", labels=False)) as im:
        assert im.mode == "L"


def test_grid_labels_are_drawn_in_a_left_column(tmp_path):
    rows = [("x", images(3)), ("f.g(x)", images(3))]
    with Image.open(save_grid(rows, tmp_path / "l.png")) as labelled, \
            Image.open(save_grid(rows, tmp_path / "n.png", labels=False)) as plain:
        extra = labelled.width - plain.width
        assert extra > 20 and labelled.height == plain.height
        column = labelled.convert("L").crop((0, 0, extra, labelled.height))
        assert column.getextrema()[0] < 100  # dark text pixels, not a blank strip
        # one label per row: the first row's band and the second's both hold ink
        half = labelled.height // 2
        assert column.crop((0, 0, extra, half)).getextrema()[0] < 100
        assert column.crop((0, half, extra, labelled.height)).getextrema()[0] < 100


def test_vectors_are_drawn_as_a_scatter_coloured_per_row(tmp_path):
    torch.manual_seed(0)
    rows = [("z", torch.randn(50, 2)), ("gen(z)", torch.randn(50, 7) + 3)]
    with Image.open(save_grid(rows, tmp_path / "v.png")) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (500, 500)
        r, _, b = np.asarray(rgb, dtype=int).transpose(2, 0, 1)
    blue = int((b > r + 60).sum())     # matplotlib's C0
    orange = int((r > b + 60).sum())   # C1
    assert blue > 200 and orange > 200


@pytest.mark.parametrize("rows, words", [
    ([("x", torch.zeros(4, 32, 32))], ["'x'", "[4, 32, 32]", "[N, C, H, W]"]),
    ([("x", torch.zeros(4, 2, 8, 8))], ["'x'", "[4, 2, 8, 8]", "C = 1 or 3"]),
    ([("x", images(4)), ("f(x)", images(4, h=16, w=16))],
     ["'f(x)'", "[4, C, 32, 32]", "[4, 3, 16, 16]"]),
    ([("x", images(4)), ("f(x)", images(3))], ["'f(x)'", "[4, C, 32, 32]", "[3, 3, 32, 32]"]),
    ([("x", images(4)), ("z", torch.zeros(4, 2))], ["'z'", "[4, 2]", "images and vectors"]),
])
def test_bad_shapes_name_the_row_and_both_shapes(tmp_path, rows, words):
    with pytest.raises(ValueError) as error:
        save_grid(rows, tmp_path / "bad.png")
    for word in words:
        assert word in str(error.value)
    assert not (tmp_path / "bad.png").exists()


def test_not_a_list_of_pairs_is_refused(tmp_path):
    with pytest.raises(TypeError, match="wrap it in a list"):
        save_grid(("x", images()), tmp_path / "g.png")
    with pytest.raises(TypeError, match="row 'x': expected a torch.Tensor"):
        save_grid([("x", [[0.0]])], tmp_path / "g.png")


# --- atomic writes ---------------------------------------------------------------------


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_writes_are_atomic_with_the_umask_mode(tmp_path, umask_027):
    run = tmp_path / "run"
    grid = save_grid([("x", images())], run / "samples" / "step-000010" / "A.png")
    metrics = run / "metrics.jsonl"
    metrics.write_text('{"step": 1, "loss/total": 1.0}\n')
    curves = plot_curves(metrics, run / "curves.png")
    index = write_index(run)
    for path in (grid, curves, index):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask_027 == 0o640
        assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save_grid([("x", images())], tmp_path / "g.png")
    before = path.read_bytes()

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        save_grid([("x", images(value=1.0))], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]


# --- metrics and curves ----------------------------------------------------------------


def write_metrics(path, lines, tail=""):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + tail)
    return path


def losses(step, scale=1.0):
    return {"step": step, "time": step * 0.1, "lr": 2e-4, "steps_per_s": 10.0,
            "loss/adv:f": 0.3 * scale, "loss/adv:g": 0.4 * scale,
            "loss/eq:f.g = id(Horse)": 1.0 / step, "loss/total": 2.0 / step,
            "loss/critic:Horse": -0.5 * scale, "loss/critic_total": 0.2}


def test_a_truncated_last_line_is_skipped(tmp_path):
    path = write_metrics(tmp_path / "metrics.jsonl", [losses(10), losses(20)],
                         tail='{"step": 30, "loss/adv:f": 0.')
    records = read_metrics(path)
    assert [r["step"] for r in records] == [10, 20]
    out = plot_curves(path, tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    with Image.open(out) as im:
        assert im.width > 600 and im.height > 300


def test_a_bad_middle_line_warns_and_null_is_nan(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "eval/f/ratio": null}\nnot json\n{"step": 2}\n')
    with pytest.warns(UserWarning, match="line 2"):
        records = read_metrics(path)
    assert math.isnan(records[0]["eval/f/ratio"]) and records[1] == {"step": 2}


def test_a_resumed_run_keeps_the_last_value_of_a_repeated_step():
    records = [{"step": 10, "loss/total": 1.0}, {"step": 20, "loss/total": 0.9},
               {"step": 10, "loss/total": 0.5}, {"step": 30, "loss/total": 0.4}]
    assert series(records, "loss/") == {"loss/total": ([10, 20, 30], [0.5, 0.9, 0.4])}


def test_trim_keeps_the_log_up_to_the_checkpoint_byte_for_byte(tmp_path):
    path = tmp_path / "metrics.jsonl"
    head = ('{"step": 1, "loss/total": 1.0}\n{"note": "no step, before the checkpoint"}\n'
            'not json, before the checkpoint\n{"step": 2, "loss/total": 0.5}\n'
            '{"step": 2, "eval/f/ratio": null}\n')
    tail = ('{"step": 3, "loss/total": 0.4}\n{"note": "after"}\n{"step": 4, "loss/total": 0.3}'
            '\n{"step": 5, "loss/to')
    path.write_text(head + tail)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert trim_metrics(path, 2) == 4
    assert path.read_text() == head and stat.S_IMODE(os.stat(path).st_mode) == mode
    assert trim_metrics(path, 2) == 0 and path.read_text() == head  # nothing left to cut
    assert trim_metrics(path, 1) == 2  # the step-2 lines; the others came before them
    assert path.read_text() == head.rsplit('{"step": 2, "loss', 1)[0]


def test_trim_ends_a_kept_last_line_and_drops_only_a_torn_one(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}')  # killed between the record and its newline
    assert trim_metrics(path, 5) == 0 and path.read_text() == '{"step": 1}\n{"step": 2}\n'
    path.write_text('{"step": 1}\n{"step": 2}\n{"st')
    assert trim_metrics(path, 5) == 1 and path.read_text() == '{"step": 1}\n{"step": 2}\n'
    path.write_text('{"st')
    assert trim_metrics(path, 5) == 1 and path.read_text() == ""
    assert trim_metrics(tmp_path / "missing.jsonl", 5) == 0
    assert not (tmp_path / "missing.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]  # no temp files


def test_curves_have_a_panel_per_group_and_log_y_only_where_positive():
    records = [losses(s) for s in range(10, 200, 10)]
    records.append({"step": 100, "eval/f/ratio": 0.5, "eval/g/ratio": 0.7, "eval/f/mae": 0.1})
    fig = curves_figure(records)
    panels = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_visible()}
    assert list(panels) == ["adversarial", "equations", "critics", "totals",
                            "eval: ratio", "eval: mae"]
    assert panels["equations"].get_yscale() == "log"
    assert panels["critics"].get_yscale() == "linear"  # a critic loss is negative
    legend = [t.get_text() for t in panels["eval: ratio"].get_legend().get_texts()]
    assert legend == ["f", "g"]
    smoothed = [line for line in panels["adversarial"].get_lines() if line.get_label() == "adv:f"]
    assert len(smoothed) == 1 and len(panels["adversarial"].get_lines()) == 4  # raw + EMA


def test_curves_without_metrics_still_make_a_png(tmp_path):
    out = plot_curves(tmp_path / "missing.jsonl", tmp_path / "curves.png")
    with Image.open(out) as im:
        assert im.format == "PNG"


# --- index.html ------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.text = [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and not value.startswith("#"):
                self.links.append(value)


def make_run(tmp_path, schema="schema S\nobject Horse, Zebra\nf : Horse -> Zebra\n",
             steps=(100, 200, 300, 400, 500)):
    run = tmp_path / "my-run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({
        "experiment": "fonts", "schema": schema, "options": {"size": 32},
        "trainer": {"steps": 500}, "started": "2025-01-01T12:00:00"}))
    lines = [losses(s) for s in steps]
    lines.append({"step": 500, "eval/f/mae": 0.123456, "eval/f/ratio": 0.4,
                  "eval/g/mae": 0.25, "eval/g/ratio": None})
    write_metrics(run / "metrics.jsonl", lines, tail='{"step": 51')
    for step in steps:
        for obj in ("Zebra", "Horse"):
            save_grid([("x", images(2))], run / "samples" / f"step-{step:06d}" / f"{obj}.png")
    plot_curves(run / "metrics.jsonl", run / "curves.png")
    return run


def test_index_has_the_eval_table_and_latest_losses(tmp_path):
    page = write_index(make_run(tmp_path)).read_text()
    assert "<title>my-run — fonts · cdl</title>" in page
    for cell in ("<th>mae</th>", "<th>ratio</th>", ">f</td>", ">g</td>", "<td>0.1235</td>",
                 "<td>0.4</td>", "<td>0.25</td>", '<td class="bad">NaN</td>'):
        assert cell in page
    assert ">eq:f.g = id(Horse)</td><td>0.002</td>" in page  # latest loss, at step 500
    assert "2025-01-01 12:00:00" in page


def test_index_escapes_text_from_the_run(tmp_path):
    run = make_run(tmp_path, schema="schema X\n# <script>alert('x')</script> & co\n")
    page = write_index(run).read_text()
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page


def test_index_links_are_relative_and_point_at_files_that_exist(tmp_path):
    run = make_run(tmp_path)
    page = write_index(run).read_text()
    parser = Links()
    parser.feed(page)
    assert "curves.png" in parser.links and "run.json" in parser.links
    assert "samples/step-000500/Horse.png" in parser.links
    for link in parser.links:
        url = urlparse(link)
        assert not url.scheme and not url.netloc and not link.startswith("/"), link
        assert (run / unquote(url.path)).is_file(), link
    assert "http" not in page.lower().replace("http-equiv", "")


def test_index_shows_samples_newest_first_with_older_steps_folded(tmp_path):
    page = write_index(make_run(tmp_path)).read_text()
    positions = [page.index(f'id="step-{s}"') for s in (500, 400, 300, 200, 100)]
    assert positions == sorted(positions)
    details = page.index("<details><summary>2 older steps")
    assert positions[2] < details < positions[3]
    # objects in schema order, each grid lazily loaded except the newest step's
    assert page.index("step-000500/Horse.png") < page.index("step-000500/Zebra.png")
    assert 'image-rendering: pixelated' in page
    assert page.count('loading="lazy"') == 2 * 4


def test_index_of_a_run_that_has_just_started(tmp_path):
    page = write_index(tmp_path).read_text()
    for note in ("run.json is missing", "no evaluation yet", "no losses logged yet",
                 "no samples yet"):
        assert note in page
    with pytest.raises(NotADirectoryError, match="does not exist"):
        write_index(tmp_path / "nowhere")


def test_public_names():
    import runtime.report as report

    assert sorted(report.__all__) == ["plot_curves", "save_grid", "write_index"]
    assert Path(report.__file__).parent.name == "report"
