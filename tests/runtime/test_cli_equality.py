import subprocess
import sys

from runtime.cli import main


def test_equal_exit_codes(capsys, tmp_path):
    assert main(["equal", "examples/cyclegan.schema", "f.g.f", "f"]) == 0
    assert capsys.readouterr().out == "equal: f.g.f = f\n"
    assert main(["equal", "examples/equalizer.schema", "h", "g"]) == 1
    assert "not equal: h != g" in capsys.readouterr().out
    braid = tmp_path / "braid.schema"
    braid.write_text("object X\na, b : X -> X\na.b.a = b.a.b\n")
    assert main(["equal", str(braid), "a.b", "b.a", "--max-seconds", "0.1"]) == 2
    assert "undecided: cannot decide a.b = b.a" in capsys.readouterr().out
    assert main(["equal", str(braid), "a.b.a.a", "b.a.b.a", "--max-seconds", "0.1"]) == 0


def test_equal_bad_input_exits_3(capsys):
    assert main(["equal", "examples/cyclegan.schema", "f", "g"]) == 3
    assert "not parallel" in capsys.readouterr().err
    assert main(["equal", "examples/cyclegan.schema", "f.k", "f"]) == 3
    assert "unknown arrow 'k'" in capsys.readouterr().err
    assert main(["equal", "no/such.schema", "f", "f"]) == 3


def test_equal_prints_a_proof(capsys):
    assert main(["equal", "examples/cyclegan.schema", "f.g.f.g", "id(Horse)", "--proof"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "equal: f.g.f.g = id(Horse)",
        "f.g.f.g",
        "  = f.g        by f.g = id(Horse) at 0, left to right",
        "  = id(Horse)  by f.g = id(Horse) at 0, left to right",
    ]


def test_check_prints_completion_finiteness_and_hom_sets(capsys):
    assert main(["check", "examples/cyclegan.schema"]) == 0
    out = capsys.readouterr().out
    assert "completion: 2 rules, confluent" in out
    assert "  f.g -> id(Horse)" in out
    assert "finite: yes, 4 morphisms" in out
    assert "  Horse -> Zebra: 1: f" in out


def test_check_shows_first_elements_of_infinite_hom_sets(capsys, tmp_path):
    loop = tmp_path / "loop.schema"
    loop.write_text("object X, Y\nf : X -> X\ng : X -> Y\n")
    assert main(["check", str(loop)]) == 0
    out = capsys.readouterr().out
    assert "finite: no" in out
    assert "  X -> Y: infinite: g, f.g, f.f.g, f.f.f.g, f.f.f.f.g, …" in out
    assert "  Y -> Y: 1: id(Y)" in out


def test_check_reports_an_unfinished_completion(capsys, tmp_path):
    braid = tmp_path / "braid.schema"
    braid.write_text("object X\na, b : X -> X\na.b.a = b.a.b\n")
    assert main(["check", str(braid), "--max-seconds", "0.1"]) == 0
    assert "NOT confluent (completion stopped at max_seconds=0.1" in capsys.readouterr().out


def test_cdl_equal_and_check_do_not_import_torch():
    code = ("import sys; from runtime.cli import main; "
            "rc = main(['equal', 'examples/cyclegan.schema', 'f.g.f', 'f']); "
            "rc += main(['check', 'examples/product.schema']); "
            "assert 'torch' not in sys.modules; sys.exit(rc)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
