"""Every error text of the category layer, in one place.

Keeping the wording here (as DisCoPy's ``messages.py`` does) makes the texts
consistent, easy to review, and easy to test: each function returns the message
for one kind of mistake, naming what was expected and what came.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def not_composable(left: str, right: str, cod: str, dom: str) -> str:
    return (
        f"{left}.{right} does not compose: cod({left})={cod} but dom({right})={dom}"
    )


def path_endpoint(path: str, which: str, expected: str, got: str) -> str:
    return (
        f"path {path} has {which} {got} but {expected} was declared as its {which}"
    )


def equation_endpoints(lhs: str, rhs: str, which: str, left: str, right: str) -> str:
    return (
        f"equation {lhs} = {rhs}: both sides must have the same {which}, "
        f"but {which}({lhs})={left} and {which}({rhs})={right}"
    )


def bad_name(kind: str, name: object) -> str:
    return (
        f"invalid {kind} name {name!r}: a name is a non-empty string of letters, "
        "digits and '_' that does not start with a digit (e.g. 'Horse', 'f_2')"
    )


def duplicate_name(name: str, existing: str, schema: str) -> str:
    return (
        f"name {name!r} is already used by {existing} in schema {schema!r}; "
        "objects and arrows share one namespace, so pick another name"
    )


def unknown_name(kind: str, name: str, schema: str, known: Iterable[str]) -> str:
    known = list(known)
    hint = did_you_mean(name, known)
    if not hint:
        shown = ", ".join(sorted(known)[:12]) or "none"
        hint = f"; known: {shown}"
    return f"unknown {kind} {name!r} in schema {schema!r}{hint}"


def wrong_kind(kind: str, name: str, other: str, schema: str, known: Iterable[str]) -> str:
    shown = ", ".join(sorted(known)[:12]) or "none"
    return (f"expected an {kind} name of schema {schema!r}, got {name!r}, which names "
            f"{other}; known {kind}s: {shown}")


def foreign_value(kind: str, value: str, schema: str) -> str:
    return (
        f"{kind} {value} is not the one declared in schema {schema!r} under that name; "
        "use the values that this schema's objects()/arrow() returned"
    )


def empty_product(name: str) -> str:
    return f"product object {name!r} needs at least two factors, got fewer"


def not_a(kind: str, value: object) -> str:
    return f"expected {kind}, got {type(value).__name__} {value!r}"


def parse_error(line: int, col: int, text: str) -> str:
    return f"line {line}, col {col}: {text}"


# ---------------------------------------------------------------- equality

def bad_bound(name: str, value: object) -> str:
    return f"{name} must be a positive number, got {value!r}"


def completion_bound(bound: str, limit: object, rules: int) -> str:
    return f"completion stopped at {bound}={limit} with {rules} rules"


def completion_stopped(schema: str, reason: str, rules) -> str:
    rules = list(rules)
    shown = "; ".join(str(r) for r in rules[:8])
    more = f"; … {len(rules) - 8} more" if len(rules) > 8 else ""
    return (f"schema {schema!r}: Knuth–Bendix {reason} (not confluent); rules so far: "
            f"{shown or 'none'}{more}. Raise max_rules/max_seconds, or the presentation may "
            "have no finite complete system for this arrow order")


def undecided_pair(p: str, q: str, np: str, nq: str, reason: str) -> str:
    return (f"cannot decide {p} = {q}: the partial rules reduce them to {np} and {nq}, "
            f"which differ, but Knuth–Bendix {reason}, so different normal forms prove nothing")


def not_parallel(p: str, q: str, pd: str, pc: str, qd: str, qc: str) -> str:
    return (f"{p} and {q} are not parallel: {p} : {pd} -> {pc} but {q} : {qd} -> {qc}; "
            "only paths with the same dom and cod can be compared")


def not_equal(p: str, q: str, np: str, nq: str) -> str:
    return (f"{p} and {q} are not equal: their normal forms {np} and {nq} differ in a "
            "confluent system, so no proof exists")


def bad_max_steps(value: object) -> str:
    return (f"max_steps must be an int >= 0 (the most equation steps a proof may take), "
            f"got {value!r}")


def proof_too_long(limit: int) -> str:
    return f"the proof has more than max_steps={limit} equation steps; raise max_steps"


def bad_step(index: int, step: str, path: str, why: str) -> str:
    return f"proof step {index} ({step}) does not apply to {path}: {why}"


def proof_mismatch(which: str, expected: str, got: str) -> str:
    return f"the proof's {which} is {got} but {expected} was claimed"


def infinite_hom(what: str) -> str:
    return (f"{what} is infinite (the complete rewrite system's irreducible words contain "
            "a cycle); pass max_length=N to list its morphisms up to length N")


def not_decided_finite(schema: str, reason: str) -> str:
    return (f"schema {schema!r}: cannot enumerate morphisms without a confluent rewrite "
            f"system; completion {reason}")


def bad_path_length(value: object) -> str:
    return f"max_length must be an int >= 0, got {value!r}"


def bad_length(value: object) -> str:
    return f"max_length must be an int >= 0 or None, got {value!r}"


# ---------------------------------------------------------------- schema maps

def unmapped(kind: str, name: str) -> str:
    return f"{kind} {name} has no image"


def wrong_endpoints(arrow: str, image: str, dom: str, cod: str) -> str:
    return f"arrow {arrow} goes to {image}, but it must go {dom} -> {cod}"


def equation_broken(eq: str, lhs: str, rhs: str, target: str) -> str:
    return f"equation {eq} goes to {lhs} = {rhs}, which does not hold in {target}"


def equation_undecided(eq: str, lhs: str, rhs: str, why: str) -> str:
    return f"equation {eq} goes to {lhs} = {rhs}, which could not be decided: {why}"


# ---------------------------------------------------------------- linear models

def missing_linear(kind: str, names) -> str:
    return f"check_linear needs a {kind} for every one; missing: {', '.join(names)}"


def bad_dim(ob: str, value: object) -> str:
    return f"dims[{ob}] must be an int >= 0, got {value!r}"


def bad_matrix_shape(arrow: str, rows: int, cols: int, shape) -> str:
    return (f"maps[{arrow}] must be a {rows}x{cols} matrix (dim cod x dim dom, acting on "
            f"column vectors), got shape {shape[0]}x{shape[1]}")


# ---------------------------------------------------------------- text input

def schema_line(got: str | None, is_name: bool) -> str:
    if got is None:
        return "expected a schema name after 'schema' (e.g. 'schema CycleGAN')"
    if is_name:
        return (f"a schema name is one identifier (letters, digits, '_'), so {got!r} cannot "
                f"follow it: write 'schema NAME' (e.g. CycleGAN, Cycle_GAN)")
    return f"expected a schema name after 'schema', got {got!r}"


def _text_hint(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return ": decode it first (data.decode('utf-8'))"
    if hasattr(value, "read"):
        return ": pass its text (f.read())"
    return ""


def not_text(what: str, value: object) -> str:
    return f"{what} must be text (str), got {type(value).__name__}{_text_hint(value)}"


def not_a_path(value: object) -> str:
    return ("expected a path: text (str) such as 'f.g' or 'id(A)', a Path, an Arrow, or an "
            f"Ob for its identity; got {type(value).__name__}{_text_hint(value)}")


# ---------------------------------------------------------------- map text

MAP_HEADER = "'map NAME : SOURCE -> TARGET'"


def map_header(what: str) -> str:
    return (f"expected {what} in a map header {MAP_HEADER} (each side a schema name or a "
            ".schema file, e.g. 'map G : involution.schema -> cyclegan.schema')")


MAP_LINES = ("'ob A -> X' (an object and its image) or 'ar f -> p' (an arrow and its image "
             "path, e.g. 'ar s -> f.g' or 'ar s -> id(X)')")


def map_statement(got: str) -> str:
    return f"expected {MAP_LINES}, got {got}"


def map_first(got: str) -> str:
    return (f"expected 'schema NAME' (a schema written in this file) or {MAP_HEADER} "
            f"first, got {got}")


def map_missing() -> str:
    return f"no map in this text: write a line {MAP_HEADER}, then its 'ob' and 'ar' lines"


def map_twice(line: int) -> str:
    return f"a map file holds one map; the first began on line {line}"


def schema_after_map(line: int) -> str:
    return (f"the schemas of a map file come before its map (the map began on line {line}): "
            "move this schema up")


def mapped_twice(kind: str, name: str, line: int) -> str:
    return f"{kind} {name} is already mapped on line {line}; give each one image"


def unknown_schema(name: str, known) -> str:
    known = list(known)
    from_hint = did_you_mean(name, known)
    shown = ", ".join(known) or "none"
    return (f"unknown schema {name!r}{from_hint}; known here: {shown} (write the schema above "
            f"the map, pass it with schemas=…, or name its file, e.g. "
            f"{name.lower()}.schema)")


def schema_file(path: str, where: str, why: str) -> str:
    return f"cannot read schema file {path!r} ({where}): {why}"


def schema_named_twice(name: str, line: int) -> str:
    return f"schema {name!r} is already written on line {line} of this file"
