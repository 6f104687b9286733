import subprocess
import sys

import pytest

from runtime.cli import main


def test_check_prints_the_schema(capsys):
    assert main(["check", "examples/cyclegan.schema"]) == 0
    out = capsys.readouterr().out
    assert "schema CycleGAN: 2 objects, 2 arrows, 2 equations" in out
    for line in ("  f : Horse -> Zebra", "  g : Zebra -> Horse", "  f.g = id(Horse)"):
        assert line in out


def test_check_reports_an_invalid_schema_with_exit_1(tmp_path, capsys):
    bad = tmp_path / "bad.schema"
    bad.write_text("object Horse, Zebra\nf : Horse -> Zebar\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line 2, col 14: unknown object 'Zebar' (did you mean 'Zebra'?)" in err


def test_check_reports_a_missing_file(capsys):
    assert main(["check", "no/such.schema"]) == 1
    assert "cannot read schema file 'no/such.schema'" in capsys.readouterr().err


def test_check_reports_a_binary_file(tmp_path, capsys):
    binary = tmp_path / "model.pt"
    binary.write_bytes(b"PK\x03\x04\xd0\xff")
    assert main(["check", str(binary)]) == 1
    err = capsys.readouterr().err
    assert f"cannot read schema file '{binary}': not UTF-8 text (byte 0xd0 at offset 4)" in err


def test_paths_with_filters(capsys):
    assert main(["paths", "examples/cyclegan.schema", "--max-length", "3",
                 "--from", "Horse", "--to", "Zebra"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["f  : Horse -> Zebra", "f.g.f  : Horse -> Zebra"]


def test_paths_unknown_object(capsys):
    assert main(["paths", "examples/cyclegan.schema", "--from", "Hrose"]) == 1
    assert "did you mean 'Horse'?" in capsys.readouterr().err


def test_draw(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["draw", "examples/square.schema", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_into_a_missing_folder_names_the_file_asked_for(tmp_path, capsys):
    out = tmp_path / "no" / "s.png"
    assert main(["draw", "examples/square.schema", "-o", str(out)]) == 1
    assert f"cannot write '{out}': No such file or directory" in capsys.readouterr().err
    assert not out.parent.exists()


@pytest.mark.parametrize("argv", [["check", "examples/gan.schema"]])
def test_console_entry_point_runs(argv):
    done = subprocess.run([sys.executable, "-m", "runtime", *argv],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "gen : Latent -> Image" in done.stdout
