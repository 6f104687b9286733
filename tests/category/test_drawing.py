import numpy as np
from PIL import Image

from category import Schema
from category.drawing import _curvatures, draw

PARALLEL = "schema Par\nobject A, B\nf, g, h : A -> B\nk : B -> A\nl : A -> A\nf = g\n"


def test_dot_lists_every_object_arrow_and_equation():
    S = Schema.parse(open("examples/product.schema").read())
    dot = S.to_dot()
    assert dot.startswith('digraph "Product" {') and dot.endswith("}")
    assert '"BxC" [label="BxC = B × C"];' in dot
    assert '"A" -> "BxC" [label="f"];' in dot and '"BxC" -> "A" [label="g"];' in dot
    assert "f.g = id(A)\\ng.f = id(BxC)" in dot


def test_parallel_and_antiparallel_arrows_get_distinct_arcs():
    S = Schema.parse(PARALLEL)
    rad = _curvatures(S)
    # f, g, h, k join the same two objects: no two may be drawn on the same arc.
    # arc3 curvature flips with direction, so compare in one orientation.
    geometric = {n: rad[n] * (1 if S[n].dom.name <= S[n].cod.name else -1) for n in "fghk"}
    assert len(set(geometric.values())) == 4
    assert rad["l"] == 0.0


def test_draw_writes_a_png_atomically(tmp_path):
    S = Schema.parse(PARALLEL)
    out = tmp_path / "par.png"
    draw(S, str(out))
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 300 and im.height > 300
        # something was drawn: the picture is not a blank canvas
        assert len(np.unique(np.asarray(im.convert("L")))) > 10
    assert [p.name for p in tmp_path.iterdir()] == ["par.png"]  # no temp files left
