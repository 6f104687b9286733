"""The ``.schema`` text format: one statement a line, ``#`` comments.

::

    schema CycleGAN
    object Horse, Zebra
    object HxZ = Horse * Zebra    # a product object
    f : Horse -> Zebra            # 'f, g : A -> B' declares several arrows
    g : Zebra -> Horse
    f.g = id(Horse)               # paths are diagrammatic: f then g

Errors name the line and column, and suggest the closest known name.

>>> from category import Schema
>>> Schema.parse("object Horse\\nf : Horse -> Zebar")
Traceback (most recent call last):
...
category.errors.UnknownNameParseError: line 2, col 14: unknown object 'Zebar'; known: Horse
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import messages
from .core import Path
from .errors import ParseError, SchemaError, SchemaTypeError, UnknownNameError, parse_variant

if TYPE_CHECKING:  # for the annotations only: schema.py imports this module
    from .schema import Schema

_TOKEN = re.compile(r"\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>->|[,:=*.()]))")


@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "op" or "end"
    text: str
    col: int  # 1-based


def tokenize(line: str, lineno: int) -> list[Token]:
    code = line.split("#", 1)[0].rstrip()
    tokens, pos = [], 0
    while pos < len(code):
        m = _TOKEN.match(code, pos)
        if m is None or m.end() == pos:
            bad = pos + len(code[pos:]) - len(code[pos:].lstrip())
            raise ParseError(
                messages.parse_error(lineno, bad + 1, f"unexpected character {code[bad]!r}"),
                lineno, bad + 1)
        kind = "ident" if m.group("ident") else "op"
        tokens.append(Token(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    tokens.append(Token("end", "end of line", len(code) + 1))
    return tokens


class _Line:
    """A cursor over one line's tokens."""

    def __init__(self, tokens: list[Token], lineno: int):
        self.tokens, self.i, self.lineno = tokens, 0, lineno

    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def error(self, text: str, token: Token | None = None,
              kind: type = ParseError) -> ParseError:
        col = (token or self.peek).col
        cls = parse_variant(kind)
        return cls(messages.parse_error(self.lineno, col, text), self.lineno, col)

    def take(self, kind: str, text: str | None = None, what: str = "") -> Token:
        tok = self.peek
        if tok.kind != kind or (text is not None and tok.text != text):
            wanted = what or (repr(text) if text else "a name")
            got = tok.text if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected {wanted}, got {got}")
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.peek.kind == "op" and self.peek.text == text:
            self.i += 1
            return True
        return False

    def end(self) -> None:
        self.take("end", what="end of line")


def _names(line: _Line, what: str) -> list[Token]:
    names = [line.take("ident", what=what)]
    while line.accept(","):
        names.append(line.take("ident", what=what))
    return names


def _path(schema, line: _Line) -> Path:
    """``step('.' step)*``, a step being an arrow name or ``id(A)``: ``f.g``, ``id(A)``,
    ``id(A).f`` (as ``A.id >> f`` in Python)."""
    path, first = None, True
    while first or line.accept("."):
        what = "a path (e.g. 'f.g' or 'id(A)')" if first else "an arrow name after '.'"
        tok = line.take("ident", what=what)
        if tok.text == "id" and line.accept("("):
            ob_tok = line.take("ident", what="an object name")
            line.take("op", ")", "')'")
            step = _lookup(schema, line, ob_tok, "object").id
        else:
            step = _lookup(schema, line, tok, "arrow").path
        if path is None:
            path = step
        else:
            try:
                path = path >> step
            except SchemaError as err:
                raise line.error(str(err), tok, type(err)) from None
        first = False
    return path


def _lookup(schema, line: _Line, tok: Token, kind: str):
    try:
        return schema.ob(tok.text) if kind == "object" else schema.generator(tok.text)
    except UnknownNameError:
        known = [x.name for x in (schema.objects() if kind == "object" else schema.arrows)]
        raise line.error(messages.unknown_name(kind, tok.text, schema.name, known)
                         .replace(f" in schema {schema.name!r}", ""), tok,
                         UnknownNameError) from None


def _statement(schema, line: _Line) -> None:
    head, second = line.peek, line.tokens[1]
    if head.kind == "ident" and head.text == "schema" and second.text not in (":", ",", ".",
                                                                              "="):
        if second.kind == "ident":  # 'schema Cycle GAN': the name is one identifier
            raise line.error(messages.schema_line(line.tokens[2].text, True), line.tokens[2])
        raise line.error(messages.schema_line(second.text if second.kind != "end" else None,
                                              False), second)
    if head.kind == "ident" and head.text == "object" and second.text not in (":", ",", ".",
                                                                              "="):
        line.i += 1
        first = line.take("ident", what="an object name after 'object' (e.g. 'object A, B')")
        if line.accept("="):
            factors = [line.take("ident", what="a factor object")]
            while line.accept("*"):
                factors.append(line.take("ident", what="a factor object"))
            if len(factors) < 2:
                raise line.error("expected '*' and a second factor (products are 'B * C')")
            line.end()
            obs = [_lookup(schema, line, t, "object") for t in factors]
            _guard(line, first, lambda: schema.product(first.text, *obs))
            return
        names = [first]
        while line.accept(","):
            names.append(line.take("ident", what="an object name"))
        line.end()
        _guard(line, names[0], lambda: schema.objects(*[t.text for t in names]))
        return
    # 'f : A -> B' (recognised by its ':' or '->') or 'p = q'
    arrow_line = any(t.kind == "op" and t.text == "->" for t in line.tokens)
    if head.kind == "ident" and (second.text in (":", ",") or arrow_line):
        names = _names(line, "an arrow name")
        line.take("op", ":", "':' after the arrow name (an arrow is 'f : A -> B')")
        dom_tok, cod_tok = _ends(line, "a domain object", "'->'", "a codomain object")
        dom = _lookup(schema, line, dom_tok, "object")
        cod = _lookup(schema, line, cod_tok, "object")
        _guard(line, names[0], lambda: _add_arrows(schema, [t.text for t in names], dom, cod))
        return
    lhs = _path(schema, line)
    eq_tok = line.take("op", "=", "'=' (an equation), ':' (an arrow) or 'object'")
    rhs = _path(schema, line)
    line.end()
    _guard(line, eq_tok, lambda: schema.equate(lhs, rhs))


def _add_arrows(schema, names: list[str], dom, cod) -> None:
    schema.check_fresh(*names)  # all names checked before any arrow is added
    for name in names:
        schema.arrow(name, dom, cod)


def _ends(line: _Line, first: str, arrow: str, second: str) -> tuple[Token, Token]:
    """The rest of a line ``X -> Y``: its two names (an arrow's ends, a map's object and
    its image), the line checked to end there; ``first``, ``arrow``, ``second`` say what
    each part should be in the error."""
    a = line.take("ident", what=first)
    line.take("op", "->", arrow)
    b = line.take("ident", what=second)
    line.end()
    return a, b


def _guard(line: _Line, tok: Token, action) -> None:
    try:
        action()
    except SchemaError as err:
        raise line.error(str(err), tok, type(err)) from None


def parse_schema(text: str, new: Callable[[str], Schema]) -> Schema:
    """Parse ``.schema`` text into the schema ``new(name)`` makes (``Schema.parse`` passes
    its class: the parser builds schemas without importing the module that defines them)."""
    _check_text(text, "Schema.parse")
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors write
    schema: Schema | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        tokens = tokenize(raw, lineno)
        if tokens[0].kind == "end":
            continue
        line = _Line(tokens, lineno)
        if tokens[0].text == "schema" and tokens[1].kind == "ident" and tokens[2].kind == "end":
            if schema is not None:
                raise line.error("'schema NAME' must be the first statement, and appear once")
            schema = new(tokens[1].text)
            continue
        if schema is None:
            schema = new("Schema")
        _statement(schema, line)
    return schema if schema is not None else new("Schema")


def parse_path(schema, text: str) -> Path:
    """Parse one path expression (``f.g``, ``id(A)``) against ``schema``'s names."""
    _check_text(text, "a path")
    line = _Line(tokenize(text, 1), 1)
    path = _path(schema, line)
    line.end()
    return path


def _check_text(text: object, what: str) -> None:
    if not isinstance(text, str):
        raise SchemaTypeError(messages.not_text(what, text))
