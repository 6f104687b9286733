"""Writing files atomically, with the mode an ordinary write would give.

A reader (a browser reloading a run's page, a user opening a picture) may read a file
while it is being written, and a process may be killed mid-write. Files are therefore
written to a temporary file in the same folder, flushed to disk and moved over the
target with ``os.replace``: a reader sees the old file or the new one, never half of
one. ``mkstemp`` creates its file with mode ``0o600``; the result gets the mode
``open(path, "w")`` would give — an existing file's mode, or ``0o666`` less the umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    """The process umask, read without changing it where the system allows.

    Linux reports it in ``/proc/self/status``; elsewhere it is read by setting and
    restoring it (``os.umask`` has no read-only form).

    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_atomically(path: str | os.PathLike[str], write: Callable[[str], None],
                       suffix: str = ".tmp") -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it over ``path``.

    On any error the temporary file is removed and ``path`` is left as it was. An error
    creating the temporary file names ``path``, not the temporary name.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as err:
        raise type(err)(f"cannot write {str(path)!r}: {err.strerror}") from None
    os.close(fd)
    try:
        write(tmp)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~current_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (fsynced), creating missing parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    return replace_atomically(path, write)
