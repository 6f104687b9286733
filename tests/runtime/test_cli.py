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


# ------------------------------------------------------ bounded output, signals, pipes
def test_paths_stop_at_the_limit_and_say_so(capsys):
    assert main(["paths", "examples/cyclegan.schema", "--max-length", "1000000000",
                 "--limit", "5"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 5
    assert "stopped after 5 paths of 2000000002 (--limit 5)" in err and "--count" in err


def test_paths_are_bounded_by_default(capsys):
    assert main(["paths", "examples/cyclegan.schema", "--max-length", "1000000000"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1_000 and "stopped after 1000 paths" in err


def test_paths_count_without_listing(capsys):
    assert main(["paths", "examples/cyclegan.schema", "--max-length", "1000000000",
                 "--count"]) == 0
    assert capsys.readouterr().out == "2000000002\n"
    assert main(["paths", "examples/cyclegan.schema", "--max-length", "3", "--from", "Horse",
                 "--count"]) == 0
    assert capsys.readouterr().out == "4\n"


def test_paths_count_too_large_is_a_clear_error(tmp_path, capsys):
    two = tmp_path / "two.schema"
    two.write_text("object A\nf, g : A -> A\n")
    assert main(["paths", str(two), "--max-length", "1000000000", "--count"]) == 1
    assert "more than 1048576 bits" in capsys.readouterr().err


def test_paths_into_a_closed_pipe_end_quietly(tmp_path):
    done = subprocess.run(f"{sys.executable} -m runtime paths examples/cyclegan.schema "
                          f"--max-length 1000000 --limit 0 | head -1",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert done.stdout == "id(Horse)  : Horse -> Horse\n"
    assert done.stderr == "", done.stderr


def test_ctrl_c_is_one_line_and_exit_130():
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "runtime", "paths",
                             "examples/cyclegan.schema", "--max-length", "1000000000",
                             "--limit", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell's background job inherits SIGINT ignored, and Python
                            # then keeps ignoring it: give the child Ctrl-C as a terminal would
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        proc.stdout.readline()  # running: past the imports, inside the command
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.strip() == "cdl paths: interrupted" and "Traceback" not in err
