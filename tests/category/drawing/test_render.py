import glob
import os
import shutil
import stat

import numpy as np
import pytest
from PIL import Image

from category import Schema
from category.drawing import draw, figure, to_dot
from category.drawing.layout import LABEL_FONT, NODE_FONT, layout

PARALLEL = "schema Par\nobject A, B\nf, g, h : A -> B\nk : B -> A\nl : A -> A\nf = g\n"
BUNDLED = sorted(glob.glob("examples/*.schema"))


def load(path):
    return Schema.parse(open(path).read())


def test_dot_lists_every_object_arrow_projection_and_equation():
    S = load("examples/product.schema")
    dot = to_dot(S)
    assert dot == S.to_dot()
    assert dot.startswith('digraph "Product" {') and dot.endswith("}")
    assert '  "BxC";' in dot
    assert '"A" -> "BxC" [label="f"];' in dot and '"BxC" -> "A" [label="g"];' in dot
    assert '"BxC" -> "B" [label="π₁", style=dashed' in dot
    assert '"BxC" -> "C" [label="π₂", style=dashed' in dot
    assert "BxC = B × C\\nf.g = id(A)\\ng.f = id(BxC)" in dot
    assert '{ rank=same; "B"; "C"; }' in dot  # the factors share a column


def test_dot_keeps_a_square_square():
    dot = to_dot(load("examples/square.schema"))
    assert '{ rank=same; "A"; "C"; }' in dot and '{ rank=same; "B"; "D"; }' in dot


def test_dot_quotes_names_and_equations():
    S = Schema.parse('schema Q\nobject A\nf : A -> A\nf.f = f\n')
    assert 'label="f.f = f"' in to_dot(S)


def test_draw_writes_a_png_atomically(tmp_path):
    S = Schema.parse(PARALLEL)
    out = tmp_path / "par.png"
    assert draw(S, out, engine="matplotlib") == str(out)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 200 and im.height > 200
        # something was drawn: the picture is not a blank canvas
        assert len(np.unique(np.asarray(im.convert("L")))) > 10
    assert [p.name for p in tmp_path.iterdir()] == ["par.png"]  # no temp files left


def test_draw_writes_svg_and_pdf(tmp_path):
    S = load("examples/square.schema")
    draw(S, tmp_path / "s.svg", engine="matplotlib")
    svg = (tmp_path / "s.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    draw(S, tmp_path / "s.pdf", engine="matplotlib")
    assert (tmp_path / "s.pdf").read_bytes()[:5] == b"%PDF-"


def test_new_files_get_the_umask_mode_and_old_files_keep_theirs(tmp_path):
    S = load("examples/gan.schema")
    old = os.umask(0o027)
    try:
        draw(S, tmp_path / "new.png", engine="matplotlib")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.png").st_mode) == 0o640
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"")
    os.chmod(kept, 0o604)
    draw(S, kept, engine="matplotlib")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o604
    assert kept.read_bytes()[:4] == b"\x89PNG"


def test_drawing_onto_a_folder_names_the_folder(tmp_path):
    with pytest.raises(IsADirectoryError) as err:
        draw(load("examples/gan.schema"), tmp_path)
    assert str(err.value).startswith(f"cannot write '{tmp_path}': it is a folder")
    assert list(tmp_path.iterdir()) == []


def test_unknown_formats_and_engines_are_refused(tmp_path):
    S = load("examples/gan.schema")
    with pytest.raises(ValueError, match=r"unknown picture format '\.gif'; use \.png, \.svg"):
        draw(S, tmp_path / "s.gif")
    with pytest.raises(ValueError, match="unknown drawing engine 'tikz'"):
        draw(S, tmp_path / "s.png", engine="tikz")
    assert list(tmp_path.iterdir()) == []


def test_draw_without_a_path_returns_a_figure_outside_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = load("examples/cyclegan.schema").draw()
    assert type(fig).__name__ == "Figure" and plt.get_fignums() == before
    assert fig.get_size_inches()[0] > 2


@pytest.mark.parametrize("path", BUNDLED)
def test_the_drawn_text_fits_the_boxes_the_layout_planned(path):
    """The layout measures text without matplotlib: its boxes must hold the real text."""
    S = load(path)
    L = layout(S)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure(S, L)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    planned = {(n.name, NODE_FONT): n for n in L.nodes}
    planned.update({(b.text, LABEL_FONT): b for b in L.labels})
    checked = 0
    for text in ax.texts:
        box = planned.get((text.get_text(), text.get_fontsize()))
        if box is None:
            continue
        drawn = text.get_window_extent(renderer).transformed(ax.transData.inverted())
        assert box.x0 - 0.5 <= drawn.x0 and drawn.x1 <= box.x1 + 0.5, text.get_text()
        assert box.y0 - 0.5 <= drawn.y0 and drawn.y1 <= box.y1 + 0.5, text.get_text()
        checked += 1
    assert checked == len(L.nodes) + len(L.labels)


def test_the_dot_engine_must_exist_when_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    with pytest.raises(OSError, match="'dot' is not installed"):
        draw(load("examples/gan.schema"), tmp_path / "s.png", engine="dot")
    draw(load("examples/gan.schema"), tmp_path / "s.png")  # auto falls back to matplotlib
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_dot_engine_writes_pictures(tmp_path, suffix):
    out = tmp_path / f"s.{suffix}"
    draw(load("examples/product.schema"), out, engine="dot")
    assert out.stat().st_size > 100
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_cli_draw_writes_and_explains_what_it_cannot(tmp_path, capsys):
    from runtime.cli import main

    out = tmp_path / "s.svg"
    assert main(["draw", "examples/square.schema", "-o", str(out), "--engine",
                 "matplotlib"]) == 0
    assert "<svg" in out.read_text() and f"wrote {out}" in capsys.readouterr().out
    assert main(["draw", "examples/square.schema", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"cdl draw: error: cannot write '{tmp_path}': it is a folder" in err
    assert ".draw-" not in err


def test_the_run_page_shows_the_schema_picture_beside_its_text(tmp_path):
    from runtime.report.page import render_index

    assert "schema.png" not in render_index(tmp_path)
    draw(load("examples/cyclegan.schema"), tmp_path / "schema.png", engine="matplotlib")
    page = render_index(tmp_path)
    assert '<img class="schema" src="schema.png" alt="the schema drawn"' in page


def test_the_readme_pictures_exist():
    import re

    readme = open("README.md", encoding="utf-8").read()
    shown = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", readme)
    assert {os.path.basename(p) for p in shown} >= {"cyclegan.png", "product.png", "square.png"}
    for p in shown:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.width < 1200


def test_equations_can_be_drawn_as_diagrams(tmp_path, capsys):
    from runtime.cli import main

    S = load("examples/product.schema")
    listed = draw(S, engine="matplotlib").get_size_inches()
    drawn = draw(S, equations="diagrams").get_size_inches()
    assert drawn[1] > listed[1] + 1  # room for two more diagrams
    out = tmp_path / "p.png"
    assert main(["draw", "examples/product.schema", "-o", str(out), "--equations",
                 "diagrams"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="Graphviz draws equations as a list only"):
        draw(S, tmp_path / "q.png", engine="dot", equations="diagrams")
    with pytest.raises(ValueError, match="unknown equations style 'tikz'"):
        draw(S, equations="tikz")
