"""The text of a schema map: a header naming two schemas, then one image a line.

::

    # the involution s as the round trip f.g of CycleGAN
    map G : involution.schema -> cyclegan.schema
    ob X -> Horse
    ar s -> f.g                  # an arrow goes to a path; 'ar t -> id(Horse)' too

Each side of the header is a ``.schema`` file (resolved relative to the map file's
folder; a path, so it has a ``.`` or a ``/``) or a schema's name: one written earlier in
the same text (a ``schema NAME`` block, as in a ``.schema`` file), or one passed in
(``schemas=``). So a map file may hold its schemas too, and ``G.to_text(inline=True)``
writes such a self-contained file. Errors name the line and column, as the schema
parser's do, and a mistake inside a schema file names that file.

>>> from category import Schema, SchemaMap
>>> text = '''
... schema Involution
... object X
... s : X -> X
... s.s = id(X)
...
... map G : Involution -> CycleGAN
... ob X -> Horse
... ar s -> f.g
... '''
>>> T = Schema.parse(open("examples/cyclegan.schema").read())
>>> G = SchemaMap.parse(text, schemas=[T])
>>> G, G.check()
(SchemaMap(G : Involution -> CycleGAN), [])
>>> SchemaMap.parse(text.replace("f.g", "f.h"), schemas=[T])
Traceback (most recent call last):
...
category.errors.UnknownNameParseError: line 9, col 11: unknown arrow 'h'; known: f, g
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from . import messages
from .errors import ParseError, SchemaError, UnknownNameError, parse_variant
from .parser import _check_text, _ends, _Line, _path, tokenize

if TYPE_CHECKING:
    from .schema import Schema
    from .schema_map import SchemaMap

_SCHEMA_HEAD = re.compile(r"\s*schema\s+[A-Za-z_][A-Za-z0-9_]*\s*\Z")
_MAP_HEAD = re.compile(r"\s*map\s+[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _error(lineno: int, col: int, text: str, kind: type = ParseError) -> ParseError:
    cls = parse_variant(kind)
    return cls(messages.parse_error(lineno, col, text), lineno, col)


def _code(raw: str) -> str:
    return raw.split("#", 1)[0].rstrip()


def parse_map(text: str, new_map: Callable[..., SchemaMap], new_schema: type,
              schemas: Mapping[str, Schema] | Iterable[Schema] = (),
              base: str | os.PathLike[str] | None = None) -> SchemaMap:
    """Parse a map's text into ``new_map(source, target, name=…)`` (``SchemaMap.parse``
    passes its class, ``new_schema`` is ``Schema``'s: the parser imports neither)."""
    _check_text(text, "SchemaMap.parse")
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    known = dict(schemas) if isinstance(schemas, Mapping) else {S.name: S for S in schemas}
    inline: dict[str, tuple[Schema, int]] = {}
    block: list[int] = []  # the line numbers of the schema block being read
    map_line = 0
    for lineno, raw in enumerate(lines, start=1):
        code = _code(raw)
        if not code.strip():
            continue
        if _SCHEMA_HEAD.match(code) or (block and not _MAP_HEAD.match(code)):
            if map_line:
                if _SCHEMA_HEAD.match(code):
                    raise _error(lineno, _indent(code), messages.schema_after_map(map_line))
                continue  # a map statement: read below
            if _SCHEMA_HEAD.match(code) and block:
                _inline(lines, block, new_schema, inline)
                block = []
            block.append(lineno)
            continue
        if _MAP_HEAD.match(code):
            if map_line:
                raise _error(lineno, _indent(code), messages.map_twice(map_line))
            if block:
                _inline(lines, block, new_schema, inline)
                block = []
            map_line = lineno
            continue
        if not map_line:
            first = code.strip().split()[0]
            raise _error(lineno, _indent(code), messages.map_first(repr(first)))
    if block:
        _inline(lines, block, new_schema, inline)
    if not map_line:
        raise _error(max(len(lines), 1), 1, messages.map_missing())
    name, sides = _header(lines[map_line - 1], map_line)
    resolved = []
    files: list[str | None] = []
    for side, col in sides:
        S, file = _side(side, col, map_line, inline, known, base, new_schema)
        resolved.append(S)
        files.append(file)
    G = new_map(resolved[0], resolved[1], name=name)
    G.files = (files[0], files[1])
    _body(G, lines, map_line)
    return G


def _indent(code: str) -> int:
    return len(code) - len(code.lstrip()) + 1


def _inline(lines: list[str], block: list[int], new_schema, inline: dict) -> None:
    """Parse one ``schema NAME`` block in place (other lines blanked: errors keep the
    file's line numbers)."""
    from .parser import parse_schema

    first, last = block[0], block[-1]
    text = "\n".join(raw if first <= i <= last else ""
                     for i, raw in enumerate(lines[:last], start=1))
    S = parse_schema(text, new_schema)
    if S.name in inline:
        raise _error(first, _indent(lines[first - 1]),
                     messages.schema_named_twice(S.name, inline[S.name][1]))
    inline[S.name] = (S, first)


def _header(raw: str, lineno: int) -> tuple[str, list[tuple[str, int]]]:
    """``map NAME : SOURCE -> TARGET``: the name and each side with its column."""
    code = _code(raw)
    m = re.compile(r"\s*map\s+").match(code)
    pos = m.end()
    m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(code, pos)
    name = m.group()
    pos = m.end()
    m = re.compile(r"\s*:\s*").match(code, pos)
    if m is None:
        at = pos + len(code[pos:]) - len(code[pos:].lstrip()) + 1
        raise _error(lineno, at, messages.map_header(f"':' after the map name {name!r}"))
    pos = m.end()
    arrow = code.find("->", pos)
    if arrow < 0:
        raise _error(lineno, len(code) + 1, messages.map_header("'->' between the two sides"))
    sides = []
    for start, end, what in ((pos, arrow, "a source schema"),
                             (arrow + 2, len(code), "a target schema")):
        part = code[start:end]
        side = part.strip()
        col = start + len(part) - len(part.lstrip()) + 1
        if not side:
            raise _error(lineno, col, messages.map_header(what))
        if any(c.isspace() for c in side):
            bad = col + next(i for i, c in enumerate(side) if c.isspace())
            raise _error(lineno, bad, messages.map_header(
                f"{what} without spaces (one schema name or one file path), not {side!r}"))
        sides.append((side, col))
    return name, sides


def _side(side: str, col: int, lineno: int, inline: dict, known: Mapping, base,
          new_schema) -> tuple[Schema, str | None]:
    """The schema a side names: an inline or given schema by name, or a file's."""
    if _NAME.match(side):
        if side in inline:
            return inline[side][0], None
        if side in known:
            return known[side], None
        raise _error(lineno, col, messages.unknown_schema(side, [*inline, *known]),
                     UnknownNameError)
    from .parser import parse_schema

    where = os.path.join(os.fspath(base), side) if base is not None else side
    shown = f"resolved to {where}" if base is not None else "relative to the current folder"
    try:
        with open(where, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise _error(lineno, col,
                     messages.schema_file(side, shown, err.strerror or str(err))) from None
    except UnicodeDecodeError:
        raise _error(lineno, col, messages.schema_file(side, shown, "not UTF-8 text")) from None
    try:
        return parse_schema(text, new_schema), side
    except SchemaError as err:
        raise _error(lineno, col, f"in schema file {side}: {err}", type(err)) from None


def _body(G, lines: list[str], map_line: int) -> None:
    """The ``ob`` and ``ar`` lines after the header, each image set on ``G``."""
    S, T = G.source, G.target
    seen: dict[tuple[str, str], int] = {}
    for lineno in range(map_line + 1, len(lines) + 1):
        tokens = tokenize(lines[lineno - 1], lineno)
        if tokens[0].kind == "end":
            continue
        line = _Line(tokens, lineno)
        head = line.peek
        if head.kind != "ident" or head.text not in ("ob", "ar"):
            got = head.text if head.kind == "end" else repr(head.text)
            raise line.error(messages.map_statement(got))
        line.i += 1
        if head.text == "ob":
            key_tok, value_tok = _ends(line, "an object of the source after 'ob'",
                                       "'->' (an object line is 'ob A -> X')",
                                       "an object of the target")
            key = _resolve(line, key_tok, S, "object")
            value = _resolve(line, value_tok, T, "object")
            kind = "object"
        else:
            key_tok = line.take("ident", what="an arrow of the source after 'ar'")
            line.take("op", "->", "'->' (an arrow line is 'ar f -> p', p a path)")
            key = _resolve(line, key_tok, S, "arrow")
            value = _path(T, line)
            line.end()
            kind = "arrow"
        if (kind, key.name) in seen:
            raise line.error(messages.mapped_twice(kind, key.name, seen[kind, key.name]),
                             key_tok)
        seen[kind, key.name] = lineno
        (G.ob if kind == "object" else G.ar)[key] = value


def _resolve(line: _Line, tok, schema, kind: str):
    try:
        return schema.ob(tok.text) if kind == "object" else schema.generator(tok.text)
    except UnknownNameError as err:
        raise line.error(str(err), tok, UnknownNameError) from None
