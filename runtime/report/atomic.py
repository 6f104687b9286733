"""Atomic file writes for the run folder (see :mod:`category.files`)."""

from category.files import current_umask, write_atomic

__all__ = ["current_umask", "write_atomic"]
