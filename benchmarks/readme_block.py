"""A benchmark's table kept in ``benchmarks/README.md`` between two HTML comment markers.

Running a benchmark again replaces its block in place (the prose around it is kept); the
first run appends the block under a heading of its own.
"""

from __future__ import annotations

import re
from pathlib import Path


def write_block(readme: Path, name: str, heading: str, text: str) -> None:
    """Put ``text`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in ``readme``,
    or append it under ``## heading`` if the markers are not there yet."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = readme.read_text()
    block = f"{begin}\n{text}\n{end}"
    if begin in doc and end in doc:
        doc = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, doc,
                     flags=re.S)
    else:
        doc = doc.rstrip() + f"\n\n## {heading}\n\n{block}\n"
    readme.write_text(doc)


def publish(text: str, name: str, heading: str, write: bool) -> None:
    """Print a benchmark's table ``text``; with ``write``, also keep it as block ``name`` of
    ``benchmarks/README.md`` (:func:`write_block`) — what every table-writing script ends with."""
    print(text)
    if write:
        write_block(Path(__file__).with_name("README.md"), name, heading, text)
