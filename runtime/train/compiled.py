"""A run's compiled program, warm wherever the run goes.

The first update of a compiled program in a process compiles it: about 50 s cold for the
default experiment on a 2-core CPU, a few seconds when torch's caches already hold it
(``compiler/cache.py``). Around that first update, :class:`RunCompile`

- before it (:meth:`~RunCompile.expect`): unless this machine compiled the program
  before (its cache folder's index of the programs compiled there), unpacks the run
  folder's ``compiled.zip``, written by an earlier process of this run — maybe on another
  machine — into this machine's caches, so that ``--resume`` and every data-parallel
  worker start warm; an archive made by another torch or for another device is said
  once and passed over; then says what the compile will be, for the progress bar: warm
  from this machine's cache, warm from the run folder, or cold — and on a CPU starts in
  the background what the compile would otherwise wait for: Inductor's probe of the CPU's
  vector instructions (``compiler.cache.probe_cpu_early``; asked in every process, warm
  ones included, where it was a third of the first step) and, when cold, the precompiled
  header the first C++ kernel needs (``compiler.cache.build_header_early``) — after the
  archive is unpacked, never before: a probe started before the unpacking made Inductor
  rebuild 75 of the archive's 78 kernels (38 s instead of 4, measured);
- after it (:meth:`~RunCompile.record`): notes the program in the cache's index and
  (the writer) packs what the compile made or used into ``compiled.zip``, rewritten
  atomically when it changed.

Forward-only commands (``cdl eval``, ``sample``, ``apply``, ``export``) build their
programs eager (``run_folder.open_run``): they never compile, so they need none of this.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import torch
from tqdm import tqdm

from category.files import write_atomic
from compiler import Program
from compiler.cache import (
    build_header_early,
    compile_counts,
    kernel_keys,
    pack,
    probe_cpu_early,
    unpack,
    use_cache_dir,
)

from .networks import named_modules

__all__ = ["ARCHIVE", "RunCompile", "program_key"]

ARCHIVE = "compiled.zip"
_INDEX = "cdl-programs"  # in the cache folder: one empty file per program compiled here


def program_key(program: Program, batch_size: int) -> str:
    """What decides the code a program compiles to, hashed: torch, device, backend and
    options, both graphs, every network's architecture and dtype, the batch size. Equal
    keys compile alike; the key only predicts (torch's caches have keys of their own)."""
    parts = [torch.__version__, str(program.device), repr(program.backend),
             json.dumps(program.compile_options, sort_keys=True, default=repr),
             program.generator_graph.code, program.critic_graph.code, str(batch_size)]
    for name, m in named_modules(program).items():
        dtypes = sorted({str(p.dtype) for p in m.parameters()})
        parts.append(f"{name}: {m} {dtypes}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class RunCompile:
    """The first compiled update of ``program`` in this process, around run folder ``out``:
    see the module's docstring. ``is_writer``: this process writes the run folder."""

    def __init__(self, out: Path, program: Program, batch_size: int, is_writer: bool):
        self.out, self.program, self.is_writer = Path(out), program, is_writer
        self.key = program_key(program, batch_size)
        self.expected: str | None = None  # "cold", "warm (cache)", "warm (run folder)"
        self._kernels: set[str] = set()
        self._counts: dict[str, int] = {}
        self.probe: threading.Thread | None = None  # the CPU's probe (Inductor on a CPU)
        self.header: subprocess.Popen | None = None  # the C++ header's build, when cold

    @staticmethod
    def due(program: Program) -> bool:
        """Whether ``program``'s next update compiles: a compiled backend, no update run
        yet (construct a :class:`RunCompile` only then: its key hashes both graphs)."""
        return program.backend != "eager" and program.updates == 0

    def expect(self) -> str:
        """Unpack the run folder's archive when it fits; start in the background what the
        compile will wait for; the compile to expect, as the progress bar's note
        (``compiling, cold`` …)."""
        self.expected = self._find_compiled()  # first: see the module's docstring
        if self.program.device.type == "cpu" and self.program.backend == "inductor":
            self.probe = probe_cpu_early()  # asked in every process, warm or cold
            if self.expected == "cold":  # only then are C++ kernels built: the header
                self.header = build_header_early()
        return f"compiling, {self.expected}"

    def _find_compiled(self) -> str:
        """Where the compiled program is: this machine's cache, the run folder's archive
        (unpacked into the cache), or nowhere yet."""
        folder = use_cache_dir()
        self._kernels, self._counts = kernel_keys(), compile_counts()
        if (folder / _INDEX / self.key).is_file():  # compiled here before: nothing to add
            return "warm (cache)"
        archive = self.out / ARCHIVE
        if archive.is_file():
            why = unpack(archive.read_bytes(), self.program.device)
            if why is None:
                return "warm (run folder)"
            tqdm.write(f"cdl: note: {archive} was {why}; compiling afresh",
                       file=sys.stderr)  # above the progress bar, if one is shown
        return "cold"

    def record(self) -> dict[str, object]:
        """After the first update: the program noted as compiled here, the archive packed
        (the writer); returns what was expected (``expected``) and how the compile went
        (the ``compile_counts`` differences)."""
        if self.header is not None:  # reaped if done; left to finish otherwise
            self.header.poll()
        index = use_cache_dir() / _INDEX
        index.mkdir(exist_ok=True)
        (index / self.key).touch()
        went = {"expected": self.expected,
                **{k: v - self._counts.get(k, 0) for k, v in compile_counts().items()}}
        if self.is_writer:
            self._write_archive(kernel_keys() - self._kernels)
        return went

    def _write_archive(self, kernels: set[str]) -> None:
        data = pack(self.program.device, kernels)
        archive = self.out / ARCHIVE
        if data is not None and not (archive.is_file() and archive.read_bytes() == data):
            write_atomic(archive, data)
