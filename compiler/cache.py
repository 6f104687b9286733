"""Compiled programs kept between processes, and carried with a run to other machines.

``torch.compile`` keeps what it builds in persistent caches on disk, all under one folder
(``TORCHINDUCTOR_CACHE_DIR``): Inductor's FX graph cache (the generated code of each
graph), AOTAutograd's cache (the forward and backward split) and, on CPU, the C++ kernels
it built. A process compiling a program that an earlier one compiled finds it there and
skips nearly all the work — the default experiment's first step takes about 50 s cold on
a 2-core CPU and a few seconds warm. But torch's default folder is under ``/tmp`` (gone
with a container), and a run folder copied to another machine, a fresh CI job or a new
data-parallel node starts cold again. So:

- the caches live in a folder of cdl's own (:func:`use_cache_dir`):
  ``$XDG_CACHE_HOME/cdl/torch-compile``, else ``~/.cache/cdl/torch-compile``; torch's own
  ``TORCHINDUCTOR_CACHE_DIR``, where a user set it, wins (torch reads its cache folder
  from the environment, process-wide: the one setting cdl makes there), and so does their
  choice of ``TORCHINDUCTOR_FX_GRAPH_CACHE`` / ``TORCHINDUCTOR_AUTOGRAD_CACHE``;
- what a program's compile made or used is packed into one archive (:func:`pack`):
  torch's "mega-cache" (``torch.compiler.save_cache_artifacts``: the FX graph and
  AOTAutograd entries, with GPU kernels bundled in) and the C++ kernels it loaded, which
  the mega-cache does not carry; a run folder keeps it (``runtime/train/compiled.py``);
- :func:`unpack` puts an archive's entries into this machine's caches before compiling,
  when it was made by the same torch for the same kind of device (:func:`environment`);
  otherwise it says why, and the program compiles as usual. A kernel is only ever loaded
  under the key of its own source and compiler flags, so an entry that does not fit this
  machine is never used, just ignored.

:func:`compile_counts` reads torch's cache-hit counters: how a caller (or a test) knows
which way a compile went.
"""

from __future__ import annotations

import functools
import io
import json
import os
import platform
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

__all__ = ["build_header_early", "cache_dir", "compile_counts", "environment", "kernel_keys",
           "pack", "probe_cpu_early", "unpack", "use_cache_dir"]

_ENVIRONMENT = "environment.json"
_MEGA_CACHE = "torch-cache.bin"
_KERNELS = "kernels/"
_PROBE: threading.Thread | None = None  # probe_cpu_early's thread, once started
_PROBE_LOCK = threading.Lock()


def cache_dir() -> Path:
    """The folder of torch's compile caches: ``TORCHINDUCTOR_CACHE_DIR`` when set, else
    ``$XDG_CACHE_HOME/cdl/torch-compile``, else ``~/.cache/cdl/torch-compile``."""
    given = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if given:
        return Path(given).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().absolute() / "cdl" / "torch-compile"


def use_cache_dir() -> Path:
    """Make :func:`cache_dir` torch's cache folder (created) and switch the persistent
    FX graph and AOTAutograd caches on, unless the user's environment says otherwise;
    returns the folder. Call it before the first compile of a process (cdl's programs do,
    when they first compile); calling it again changes nothing."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    if "TORCHINDUCTOR_FX_GRAPH_CACHE" not in os.environ:
        torch._inductor.config.fx_graph_cache = True
    if "TORCHINDUCTOR_AUTOGRAD_CACHE" not in os.environ:
        torch._functorch.config.enable_autograd_cache = True
    return folder


def environment(device: torch.device | str) -> dict[str, str]:
    """What compiled code depends on besides the program: torch and Python versions, the
    machine, and the device — the CPU's vector instructions, or the GPU and its compute
    capability. Archives made under another environment are not unpacked."""
    device = torch.device(device)
    out = {"torch": torch.__version__, "python": ".".join(map(str, sys.version_info[:2])),
           "machine": f"{platform.system()} {platform.machine()}", "device": device.type}
    if device.type == "cpu":
        out["cpu"] = _cpu_vector_isa()
    elif device.type == "cuda" and torch.cuda.is_available():
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        out["gpu"] = f"{torch.cuda.get_device_name(index)} (sm_{major}{minor})"
    return out


def _cpu_vector_isa() -> str:
    """The CPU's vector instruction set as ATen dispatches on it (``AVX512``, ``AVX2``…):
    read from torch, where Inductor's own probe builds test programs (seconds cold)."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # pragma: no cover - torch < 2.2
        return "unknown"


def probe_cpu_early() -> threading.Thread | None:
    """Start Inductor's probe of this CPU's vector instructions now, in a thread of its own,
    and return the thread (None where this torch has no such probe); once per process,
    later calls return the same thread.

    Inductor asks for the answer in every process that compiles or loads a CPU program:
    it builds a small test program per instruction set (AVX-512, AVX2…) with the full
    ATen vector headers — 6–8 s of compiler runs on a 2-core CPU, once per cache folder —
    and loads each in a child process (1–2 s, in every process: warm starts too). All of
    it sat inside the first step, while the step's own Python work (Dynamo's trace, the
    autograd split, the lowering) leaves the second core idle. Started before a compiled
    first update on a CPU (``runtime/train/compiled.py``), the probe runs there, its
    compiler runs and child processes outside the GIL; Inductor, asking later, finds the
    answer made, or waits for it (:func:`_one_probe_at_a_time`: two probes at once give
    another answer). ``benchmarks/bench_compile.py``: the default experiment's first step
    52 → 46 s cold, 4.2 → 3.5 s warm.
    """
    try:  # the probe's imports made here, in the caller's thread: no import runs in two
        import torch._inductor.codecache  # noqa: F401, PLC0415 - what the probe imports
        import torch._inductor.cpp_builder  # noqa: F401, PLC0415
        from torch._inductor import cpu_vec_isa  # noqa: PLC0415 - private, may move
    except ImportError:  # pragma: no cover - another torch
        return None
    if getattr(cpu_vec_isa, "valid_vec_isa_list", None) is None:  # pragma: no cover
        return None  # another torch

    def probe() -> None:
        try:
            cpu_vec_isa.valid_vec_isa_list()
        except Exception:  # noqa: BLE001 - Inductor asks again, and reports, itself
            pass

    global _PROBE
    with _PROBE_LOCK:  # one probe per process: a second would only run beside the first
        if _PROBE is None:
            ask = cpu_vec_isa.valid_vec_isa_list
            if not getattr(ask, "cdl_one_at_a_time", False):  # before the thread starts
                cpu_vec_isa.valid_vec_isa_list = _one_probe_at_a_time(ask)
            _PROBE = threading.Thread(target=probe, name="cdl-probe-cpu", daemon=True)
            _PROBE.start()
        return _PROBE


def _one_probe_at_a_time(ask: Callable[[], list]) -> Callable[[], list]:
    """Inductor's ``valid_vec_isa_list`` (``ask``: it probes the CPU once, then answers from
    its cache) made to run in one thread at a time: a second asker waits for the first's
    answer, then reads it from the cache.

    Why: the probe is not thread-safe. The AVX-512 check adds ``-mavx512bf16`` to the
    instruction set's compiler flags while it builds its bf16 test, then puts back the
    flags it found — so two probes at once (ours in its thread, Inductor's in the
    compile) can leave the flag there for good. Every vectorized kernel's cache key
    hashes those flags: that process then rebuilds, under other keys, kernels it or
    another machine already built (an unpacked run folder compiled 15 of them again,
    about half the time on a 2-core CPU). One at a time, every process gets the flags a
    lone probe gives.
    """
    lock = threading.Lock()

    @functools.wraps(ask)
    def one_at_a_time() -> list:
        with lock:
            return ask()

    one_at_a_time.cdl_one_at_a_time = True
    for name in ("cache_clear", "cache_info"):  # the functools.cache interface, kept
        if hasattr(ask, name):
            setattr(one_at_a_time, name, getattr(ask, name))
    return one_at_a_time


# a program of one small C++ kernel: compiling it builds what every CPU kernel needs first
_FIRST_KERNEL = """
import torch
torch.compile(lambda x: (x * 2 + 1).relu(), fullgraph=True)(torch.randn(64, 64))
"""


def build_header_early() -> subprocess.Popen | None:
    """Start, in a child process, a compile of one small C++ kernel, and return the process
    (None where it cannot start).

    The first C++ kernel Inductor builds on a machine waits for its precompiled header:
    one compiler run over the ATen headers (the default experiment's cold first step took
    68 s instead of 46 with the header's folder emptied, in one run by hand on a 2-core
    CPU; ``benchmarks/README.md``, "Compile time", has the measured rows). Inductor
    keeps it outside the cache folder (``<tmp>/torchinductor_<user>/precompiled_headers``),
    keyed by the compiler's flags, and builds it in the main thread. The child builds the
    same header, through ``torch.compile`` itself, while the parent traces and lowers; the
    parent, reaching its first kernel, waits on the header's lock for the rest, or finds it
    built. Where the header exists the child's compile is a second or two of work on a
    core the trace leaves idle. It shares the parent's cache folder (the environment) and its
    ``stdout`` and ``stderr`` go nowhere.
    """
    try:
        return subprocess.Popen([sys.executable, "-c", _FIRST_KERNEL],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError:  # pragma: no cover - no process to spare: Inductor builds it itself
        return None


def compile_counts() -> dict[str, int]:
    """torch's counts of compiled graphs in this process so far: ``graphs_compiled``
    (Inductor ran), ``graphs_cached`` (found in the FX graph cache), ``autograd_compiled``
    and ``autograd_cached`` (AOTAutograd's cache misses and hits), ``frames`` (functions
    Dynamo compiled). Compare two readings around a compile to see which way it went."""
    counters = torch._dynamo.utils.counters
    return {"graphs_compiled": counters["inductor"]["fxgraph_cache_miss"],
            "graphs_cached": counters["inductor"]["fxgraph_cache_hit"],
            "autograd_compiled": counters["aot_autograd"]["autograd_cache_miss"],
            "autograd_cached": counters["aot_autograd"]["autograd_cache_hit"],
            "frames": counters["stats"]["unique_graphs"]}


def kernel_keys() -> set[str]:
    """The keys of the C++ kernels loaded in this process (each one's files lie in
    ``cache_dir()/key[1:3]/key*``): a compile loads every kernel its graphs call, built
    or found, so the keys new after a compile are the kernels of its program."""
    try:
        from torch._inductor.codecache import CppCodeCache, CppPythonBindingsCodeCache  # noqa: PLC0415 - private, may move
    except ImportError:  # pragma: no cover - another torch
        return set()
    return {k for cls in (CppCodeCache, CppPythonBindingsCodeCache)
            for k in getattr(cls, "cache", {})}


def pack(device: torch.device | str, kernels: set[str] = frozenset()) -> bytes | None:
    """One archive of what this process compiled or loaded from the caches, for
    :func:`unpack` elsewhere: the :func:`environment`, torch's mega-cache and the files
    of the C++ ``kernels`` (keys from :func:`kernel_keys`). None when there is nothing
    to pack (nothing compiled, or a torch without ``save_cache_artifacts``)."""
    save = getattr(torch.compiler, "save_cache_artifacts", None)
    saved = save() if save is not None else None
    if saved is None:
        return None
    buffer = io.BytesIO()
    root = cache_dir()
    with zipfile.ZipFile(buffer, "w") as z:
        _put(z, _ENVIRONMENT, json.dumps(environment(device), sort_keys=True).encode())
        _put(z, _MEGA_CACHE, saved[0])
        files = [f for key in sorted(kernels) for f in _files_of(root, key)]
        for f in [*files, *_isa_probes(root)]:
            _put(z, _KERNELS + f.relative_to(root).as_posix(), f.read_bytes())
    return buffer.getvalue()


def _files_of(root: Path, key: str) -> list[Path]:
    """A C++ kernel's source and library in the cache folder."""
    return [f for f in sorted((root / key[1:3]).glob(f"{key}*"))
            if f.suffix in (".so", ".cpp") and f.is_file()]


def _isa_probes(root: Path) -> list[Path]:
    """The small programs Inductor builds, once per cache folder, to probe the CPU's
    vector instructions (``torch._inductor.cpu_vec_isa``: each defines a ``…_chk_kernel``,
    with arguments or without — the bf16 and VNNI checks take some): about 7 s of a warm
    start on an empty cache folder, so they travel too."""
    out = []
    for src in sorted(root.glob("??/*.cpp")):
        if src.stat().st_size < 4096 and "_chk_kernel" in src.read_text(errors="replace"):
            lib = src.with_suffix(".so")
            out += [src, lib] if lib.is_file() else []
    return out


def _put(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    """An entry with a fixed date, so that equal contents make equal archives."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def unpack(data: bytes, device: torch.device | str) -> str | None:
    """Put the entries of a :func:`pack` archive into this machine's caches (kernel files
    already there are kept). Returns None when done, or why it was not: the archive was
    made under another :func:`environment`, or is not one cdl wrote."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            made = json.loads(z.read(_ENVIRONMENT))
            here = environment(device)
            differ = [f"{k} {made.get(k, '?')} (here {v})" for k, v in here.items()
                      if made.get(k) != v]
            if differ:
                return "made with " + ", ".join(differ)
            load = getattr(torch.compiler, "load_cache_artifacts", None)
            if load is None:  # pragma: no cover - torch < 2.7
                return f"torch {torch.__version__} cannot load compile caches"
            load(z.read(_MEGA_CACHE))
            _extract_kernels(z, use_cache_dir())
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        return f"not a compile archive cdl wrote ({type(e).__name__}: {e})"
    return None


def _extract_kernels(z: zipfile.ZipFile, root: Path) -> None:
    """The archive's kernel files into ``root`` (atomically each; existing ones kept; a
    name that would leave ``root`` is skipped)."""
    for name in z.namelist():
        if not name.startswith(_KERNELS) or name.endswith("/"):
            continue
        rel = Path(name[len(_KERNELS):])
        if rel.is_absolute() or ".." in rel.parts or len(rel.parts) != 2:
            continue
        target = root / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(z.read(name))
        os.replace(tmp, target)

