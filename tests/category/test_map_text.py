import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from category import ParseError, Schema, SchemaError, SchemaMap, UnknownNameError

from .strategies import schemas_with_equations

CYCLEGAN = Schema.parse(open("examples/cyclegan.schema").read())
INVOLUTION = Schema.parse(open("examples/involution.schema").read())


def parse(text: str, **kw) -> SchemaMap:
    return SchemaMap.parse(text, schemas=[CYCLEGAN, INVOLUTION], **kw)


@st.composite
def schema_maps(draw) -> SchemaMap:
    """A random map between two random schemas: objects to objects, arrows to random
    paths (not always of the right endpoints: the text says what was given), some left
    out."""
    S = draw(schemas_with_equations(max_objects=3, max_arrows=4, max_equations=2))
    T = draw(schemas_with_equations(max_objects=3, max_arrows=4, max_equations=2))
    T.name = "Target"
    paths = list(T.paths(3))
    ob = {o: draw(st.sampled_from(T.objects())) for o in S.objects() if draw(st.booleans())}
    ar = {a: draw(st.sampled_from(paths)) for a in S.arrows if draw(st.booleans())}
    return SchemaMap(S, T, ob, ar, name=draw(st.sampled_from(["G", "F_2", "Merge"])))


@settings(max_examples=60, deadline=None)
@given(schema_maps())
def test_text_round_trips(G):
    assert SchemaMap.parse(G.to_text(), schemas=[G.source, G.target]) == G
    assert SchemaMap.parse(G.to_text(inline=True)) == G
    again = SchemaMap.parse(G.to_text(inline=True))
    assert again.to_text(inline=True) == G.to_text(inline=True)


def test_a_map_file_names_schema_files_relative_to_itself():
    G = SchemaMap.read("examples/involution_cyclegan.map")
    assert (G.source, G.target) == (INVOLUTION, CYCLEGAN)
    assert G.files == ("involution.schema", "cyclegan.schema") and G.check() == []
    assert str(G(G.source.path("s.s"))) == "f.g.f.g"
    assert SchemaMap.parse(G.to_text(), base="examples") == G
    merge = SchemaMap.read(os.path.abspath("examples/triangle_fonts.map"))
    assert merge.check() == [] and str(merge.ar[merge.source["bc"]]) == "id(Bold)"


def test_inline_schemas_and_comments():
    G = SchemaMap.parse("# a comment\n\nschema Loop  # one loop\nobject A\nl : A -> A\n\n"
                        "map G : Loop -> Loop   # an endomap\nob A -> A\nar l -> l.l\n")
    assert G.source is G.target and str(G.ar[G.source["l"]]) == "l.l"
    assert G.to_text(inline=True).count("schema Loop") == 1


@pytest.mark.parametrize("text, where, what", [
    ("map G Involution -> CycleGAN", (1, 7), "expected ':' after the map name 'G'"),
    ("map G : Involution", (1, 19), "expected '->' between the two sides"),
    ("map G : -> CycleGAN", (1, 9), "expected a source schema"),
    ("map G : Involution ->", (1, 22), "expected a target schema"),
    ("map G : Involution -> Cycle GAN", (1, 28), "without spaces"),
    ("map G : Involution -> Cyclegan", (1, 23),
     "unknown schema 'Cyclegan' (did you mean 'CycleGAN'?)"),
    ("map G : Involution -> nowhere.schema", (1, 23),
     "cannot read schema file 'nowhere.schema'"),
    ("map G : Involution -> CycleGAN\nob Y -> Horse", (2, 4),
     "unknown object 'Y' in schema 'Involution'"),
    ("map G : Involution -> CycleGAN\nob X -> Hrose", (2, 9),
     "unknown object 'Hrose' in schema 'CycleGAN' (did you mean 'Horse'?)"),
    ("map G : Involution -> CycleGAN\nob X Horse", (2, 6), "expected '->'"),
    ("map G : Involution -> CycleGAN\nar s -> f.k", (2, 11), "unknown arrow 'k'"),
    ("map G : Involution -> CycleGAN\nar s -> f.f", (2, 11), "f.f does not compose"),
    ("map G : Involution -> CycleGAN\nar s -> f.g\nar s -> id(Horse)", (3, 4),
     "arrow s is already mapped on line 2"),
    ("map G : Involution -> CycleGAN\nX -> Horse", (2, 1), "expected 'ob A -> X'"),
    ("object X\nmap G : Involution -> CycleGAN", (1, 1), "expected 'schema NAME'"),
    ("map G : Involution -> CycleGAN\nmap H : Involution -> CycleGAN", (2, 1),
     "a map file holds one map; the first began on line 1"),
    ("map G : Involution -> CycleGAN\nschema Late\nobject A", (2, 1),
     "the schemas of a map file come before its map"),
    ("schema A\nobject X\nschema A\nobject Y\nmap G : A -> A", (3, 1),
     "schema 'A' is already written on line 1"),
    ("schema A\nobject X\nf : X -> Y\nmap G : A -> A", (3, 10), "unknown object 'Y'"),
    ("# nothing\n", (1, 1), "no map in this text"),
])
def test_errors_name_line_and_column(text, where, what):
    with pytest.raises(ParseError) as err:
        parse(text, base="examples")
    assert (err.value.line, err.value.col) == where, str(err.value)
    assert what in str(err.value)
    assert str(err.value).startswith(f"line {where[0]}, col {where[1]}: ")


def test_mistakes_keep_their_kind_and_files_are_named(tmp_path):
    with pytest.raises(UnknownNameError):
        parse("map G : Involution -> CycleGAN\nob X -> Hrose")
    (tmp_path / "bad.schema").write_text("schema Bad\nobject A\nf : A -> Zebar\n")
    (tmp_path / "bad.map").write_text("map G : bad.schema -> bad.schema\n")
    with pytest.raises(UnknownNameError) as err:
        SchemaMap.read(tmp_path / "bad.map")
    assert str(err.value) == ("line 1, col 9: in schema file bad.schema: line 3, col 10: "
                              "unknown object 'Zebar'; known: A")
    with pytest.raises(SchemaError, match="cannot read map file"):
        SchemaMap.read(tmp_path / "missing.map")
    with pytest.raises(SchemaError, match="must be text"):
        SchemaMap.parse(b"map G : A -> B")
    with pytest.raises(SchemaError, match="a Schema as the map's target"):
        SchemaMap(INVOLUTION, "CycleGAN")
    twin = Schema.parse("schema Involution\nobject Y")
    with pytest.raises(SchemaError, match="both are named 'Involution'"):
        SchemaMap(INVOLUTION, twin).to_text(inline=True)
