"""``cdl check`` and ``cdl draw`` on a schema map (a ``.map`` file), and the growth lines
of ``cdl check`` on a schema."""

import os

from PIL import Image

from category import SchemaMap
from runtime.cli import main

DIHEDRAL = "schema D8\nobject X\nr, s : X -> X\nr.r.r.r = id(X)\ns.s = id(X)\ns.r.s = r.r.r\n"


def test_check_a_map_that_is_a_functor(capsys):
    assert main(["check", "examples/involution_cyclegan.map"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "map G : Involution -> CycleGAN (involution.schema -> cyclegan.schema)",
        "objects:",
        "  X -> Horse",
        "arrows:",
        "  s : X -> X  ->  f.g : Horse -> Horse",
        "equations:",
        "  s.s = id(X)  ->  f.g.f.g = id(Horse): holds",
        "functor: yes (every equation of Involution goes to one that holds in CycleGAN)",
    ]


def test_check_lists_every_failure_of_a_map_that_is_not_a_functor(tmp_path, capsys):
    (tmp_path / "d8.schema").write_text(DIHEDRAL)
    (tmp_path / "s.schema").write_text("schema S\nobject A, B\nu : A -> A\nv : A -> A\n"
                                       "w : A -> B\nu.u = id(A)\nv.v = u\n")
    bad = tmp_path / "bad.map"
    bad.write_text("map G : s.schema -> d8.schema\nob A -> X\nar u -> r\nar v -> r\n")
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    failures = SchemaMap.read(bad).check()
    assert len(failures) == 4
    assert f"not a functor: {len(failures)} failures" in out
    for f in failures:
        assert f"  - {f}\n" in out
    assert "  B -> (no image)" in out and "  w : A -> B  ->  (no image)" in out
    assert "  u.u = id(A)  ->  r.r = id(X): does not hold" in out


def test_check_names_the_map_file_and_line_of_a_mistake(tmp_path, capsys):
    bad = tmp_path / "bad.map"
    source = os.path.abspath("examples/involution.schema")
    bad.write_text(f"map G : {source} -> cyclegan.schema\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    col = len(f"map G : {source} -> ") + 1
    assert f"{bad}: line 1, col {col}: cannot read schema file 'cyclegan.schema'" in err
    assert main(["check", str(tmp_path / "none.map")]) == 1
    assert "cannot read map file" in capsys.readouterr().err


def test_schema_commands_refuse_a_map_with_a_pointer(capsys):
    assert main(["paths", "examples/involution_cyclegan.map"]) == 1
    assert "is a schema map: this command takes a .schema file" in capsys.readouterr().err


def test_draw_a_map(tmp_path, capsys):
    out = tmp_path / "map.png"
    assert main(["draw", "examples/triangle_fonts.map", "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    picture = Image.open(out)
    assert picture.width > 1.5 * picture.height > 600  # side by side, the list below


def test_check_prints_growth_and_entropy(tmp_path, capsys):
    d8 = tmp_path / "d8.schema"
    d8.write_text(DIHEDRAL)
    assert main(["check", str(d8), "--growth", "4"]) == 0
    out = capsys.readouterr().out
    assert ("  length     0  1     2     3   4\n"
            "  morphisms  1  2     3     2   0\n"
            "  paths      1  2     4     8  16\n"
            "  ratio      1  1  0.75  0.25   0\n") in out
    assert "entropy: paths 0.6931, morphisms 0, difference 0.6931" in out
    assert main(["check", str(d8), "--growth", "-1"]) == 0
    assert "growth" not in capsys.readouterr().out
