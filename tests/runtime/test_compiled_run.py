"""A run's compiled program travels with it: the cache folder, the run folder's archive,
and the counters that say which way a compile went (compiler/cache.py,
runtime/train/compiled.py).

Each "machine" is a process with a cache folder of its own (``TORCHINDUCTOR_CACHE_DIR``),
so a process with an empty folder is a machine that never compiled the program. The
program is the small one of ``runtime_fixtures`` (fast to compile); what is asserted is
torch's cache-hit counters, never a timing.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from compiler.cache import environment, unpack
from runtime.train.compiled import ARCHIVE, program_key

from .runtime_fixtures import tiny_program

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import json, sys
    from tests.runtime.runtime_fixtures import tiny_data, tiny_program
    from runtime import Trainer
    run, steps, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    settings = dict(steps=steps, batch_size=8, progress=False, tensorboard=False)
    program = tiny_program(backend="inductor")
    if how == "resume":
        t = Trainer.resume(run, program=program, data=tiny_data(), **settings)
    else:
        t = Trainer(program, tiny_data(), run, **settings)
    t.fit()
    print(json.dumps(t.compiled))
""")


def train(run: Path, steps: int, how: str, cache: Path) -> tuple[dict, str]:
    """``how`` ("fresh" or "resume") in a process whose compile cache is ``cache``;
    returns the trainer's ``compiled`` record and the process's stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TORCHINDUCTOR_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(run), str(steps), how],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A compiled run trained on machine A (its cache folder empty at the start)."""
    root = tmp_path_factory.mktemp("compiled")
    record, _ = train(root / "run", 2, "fresh", root / "cache-A")
    return root, record


def test_a_cold_machine_compiles_and_the_run_keeps_the_archive(first):
    root, record = first
    assert record["expected"] == "cold"
    assert record["graphs_compiled"] > 0 and record["graphs_cached"] == 0
    with zipfile.ZipFile(root / "run" / ARCHIVE) as z:
        names = z.namelist()
        assert json.loads(z.read("environment.json")) == environment("cpu")
        probes = [n for n in names if n.endswith(".cpp")
                  and b"_chk_kernel" in z.read(n) and z.getinfo(n).file_size < 4096]
    assert "torch-cache.bin" in names
    assert any(n.startswith("kernels/") and n.endswith(".so") for n in names)  # C++ built
    assert probes  # Inductor's CPU probes travel too (seconds on an empty cache)


def test_another_machine_resumes_warm_from_the_run_folder(first, tmp_path):
    """Machine B never compiled the program: its resume unpacks the run's archive and
    compiles nothing (every graph from the cache, every C++ kernel from the archive), as a
    copy of the run would."""
    root, _ = first
    copy = tmp_path / "copied-run"
    subprocess.run(["cp", "-r", str(root / "run"), str(copy)], check=True)
    record, _ = train(copy, 4, "resume", tmp_path / "cache-B")
    assert record["expected"] == "warm (run folder)"
    assert record["graphs_compiled"] == 0 and record["graphs_cached"] > 0
    assert record["autograd_compiled"] == 0 and record["autograd_cached"] > 0
    with zipfile.ZipFile(root / "run" / ARCHIVE) as z:
        packed = {Path(n).name for n in z.namelist() if n.endswith(".so")}
    built = {p.name for p in (tmp_path / "cache-B").rglob("*.so")} - packed
    assert not built  # neither the program's kernels nor Inductor's probes of the CPU


def test_the_same_machine_expects_warm_from_its_own_cache(first, tmp_path):
    """A new run of the same program on machine A: warm from A's cache folder."""
    root, _ = first
    record, _ = train(tmp_path / "other-run", 2, "fresh", root / "cache-A")
    assert record["expected"] == "warm (cache)"
    assert record["graphs_compiled"] == 0 and record["graphs_cached"] > 0


def test_an_archive_of_another_torch_is_said_once_and_compiled_afresh(first, tmp_path):
    root, _ = first
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(root / "run"), str(copy)], check=True)
    rewrite_environment(copy / ARCHIVE, torch="2.99.0")
    record, err = train(copy, 3, "resume", tmp_path / "cache-C")
    assert record["expected"] == "cold" and record["graphs_compiled"] > 0
    assert err.count("compiling afresh") == 1
    assert "made with torch 2.99.0 (here " in err
    # the run's archive is now this machine's
    with zipfile.ZipFile(copy / ARCHIVE) as z:
        assert json.loads(z.read("environment.json")) == environment("cpu")


def rewrite_environment(archive: Path, **changes: str) -> None:
    """The archive with its recorded environment changed (as another machine's would be)."""
    src = zipfile.ZipFile(archive)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "environment.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
            z.writestr(info, data)
    archive.write_bytes(out.getvalue())


def test_unpack_names_what_differs_and_refuses_what_is_not_an_archive():
    assert unpack(b"not a zip", "cpu").startswith("not a compile archive cdl wrote")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("environment.json", json.dumps({**environment("cpu"), "cpu": "neon"}))
        z.writestr("torch-cache.bin", b"")
    why = unpack(buf.getvalue(), "cpu")
    assert why.startswith("made with cpu neon (here ")


def test_unpack_never_writes_outside_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "cache"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("environment.json", json.dumps(environment("cpu")))
        z.writestr("torch-cache.bin", b"")
        z.writestr("kernels/../../escaped.so", b"x")
        z.writestr("kernels/ab/cabkernel.so", b"kernel")
    unpack(buf.getvalue(), "cpu")
    assert not (tmp_path / "escaped.so").exists()
    assert (tmp_path / "cache" / "ab" / "cabkernel.so").read_bytes() == b"kernel"


def test_the_program_key_follows_what_decides_the_compiled_code():
    a, b = tiny_program(backend="inductor"), tiny_program(init_seed=3, backend="inductor")
    assert program_key(a, 8) == program_key(b, 8)  # other weights, same code
    assert program_key(a, 8) != program_key(a, 16)  # another batch size
    assert program_key(a, 8) != program_key(tiny_program(backend="inductor", width=4), 8)


PROBE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from compiler.cache import cache_dir
    from runtime.train.compiled import RunCompile
    from compiler import cache
    from runtime import Trainer
    from tests.runtime.runtime_fixtures import tiny_data, tiny_program
    def probes():  # Inductor's test programs of the CPU's vector instructions, built
        return len([p for p in cache_dir().rglob("*.cpp") if b"_chk_kernel" in p.read_bytes()])
    program = tiny_program(backend="inductor")
    Trainer(program, tiny_data(), Path(sys.argv[1]) / "made", steps=1)
    out = {"made": cache._PROBE is not None}  # not yet: a run folder's archive comes first
    for name in ("first", "again"):
        run = RunCompile(Path(sys.argv[1]) / name, program, 8, is_writer=False)
        before = probes()
        note = run.expect()
        if run.probe is not None:
            run.probe.join(timeout=300)
        header = None if run.header is None else run.header.wait(timeout=300)
        out[name] = {"note": note, "probe": run.probe and run.probe.ident, "before": before,
                     "after": probes(), "compiled": program.updates, "header": header}
        run.record()  # what a first update's end does: the program noted as compiled here
    print(json.dumps(out))
""")


def test_the_cpu_is_probed_before_every_first_step_and_the_header_built_when_cold(tmp_path):
    """Before a cold compile's first update the CPU's vector-instruction probe runs in the
    background (``probe_cpu_early``): its test programs lie in the empty cache folder
    before anything compiled; and a child process compiles one small kernel, building the
    precompiled header (``build_header_early``; it exits cleanly). A compile expected warm
    probes too — Inductor asks in every process — in the same thread, once per process,
    and builds no header. Nothing is started before (a trainer made does not probe: the
    run folder's archive must be unpacked first)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "c")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    first, again = out["first"], out["again"]
    assert not out["made"]
    assert first["note"] == "compiling, cold" and first["probe"] and first["header"] == 0
    assert first["before"] == 0 and first["after"] > 0 and first["compiled"] == 0
    assert again["note"] == "compiling, warm (cache)" and again["probe"] == first["probe"]
    assert again["header"] is None


FLAGS = textwrap.dedent("""
    import json, sys
    from torch._inductor import cpu_vec_isa
    from compiler.cache import probe_cpu_early
    if sys.argv[1] == "beside":
        probe_cpu_early()  # the probe in its thread while Inductor asks in this one
    isa = cpu_vec_isa.pick_vec_isa()
    print(json.dumps([str(isa), isa.build_arch_flags()]))
""")


def test_the_early_probe_beside_inductors_own_gives_the_flags_of_a_lone_one(tmp_path):
    """Inductor's probe of the CPU changes an instruction set's compiler flags while it
    checks them: two at once used to leave ``-mavx512bf16`` in the flags (every kernel's
    cache key then differed from another process's, and an unpacked run folder compiled
    again). Asked at once on an empty cache folder (seconds of builds: a wide window),
    the flags are those a lone probe gives, asked after in the same folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path)}

    def flags(how: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", FLAGS, how], capture_output=True,
                              text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    beside = flags("beside")
    assert beside == flags("alone")
