import pytest

from category import Ob, ParseError, Schema, SchemaError
from category.parser import parse_schema

EXAMPLES = ["cyclegan", "gan", "product", "equalizer", "square", "involution"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_bundled_schemas_parse_and_round_trip(name):
    with open(f"examples/{name}.schema") as fh:
        S = Schema.parse(fh.read())
    assert Schema.parse(str(S)) == S
    assert S.objects() and S.arrows


def test_full_format():
    S = parse_schema("""
        # leading comment and blank lines

        schema Attr   # trailing comment
        object A, B ,C
        object BxC = B * C
        f : A -> BxC
        g, h : BxC -> A
        f.g = id(A)
        g.f = id(BxC)
        h = g
    """)
    assert S.name == "Attr"
    B, C = S["B"], S["C"]
    assert S["BxC"] == Ob("BxC", (B, C))
    assert [a.name for a in S.arrows] == ["f", "g", "h"]
    assert [str(e) for e in S.equations] == ["f.g = id(A)", "g.f = id(BxC)", "h = g"]


def test_three_factor_products_and_long_paths():
    S = parse_schema("object A, B, C\nobject P = A * B * C\nf : P -> P\nf.f.f = id(P)")
    assert S["P"].factors == (S["A"], S["B"], S["C"])
    assert len(S.equations[0].lhs) == 3


@pytest.mark.parametrize("text, line, col, needle", [
    ("object Horse\nf : Horse -> Zebar", 2, 14, "unknown object 'Zebar'"),
    ("object Horse, Zebra\nf : Horse -> Zebar", 2, 14, "did you mean 'Zebra'?"),
    ("object A\nf : A -> A\nf.ff = f", 3, 3, "did you mean 'f'?"),
    ("object A, B\nf : A -> B\nf.f = f", 3, 3, "f.f does not compose: cod(f)=B but dom(f)=A"),
    ("object A, B\nf : A -> B\nf = id(A)", 3, 3, "same cod"),
    ("object A\nf : A => A", 2, 8, "unexpected character '>'"),
    ("object A\nf : A A", 2, 7, "expected '->', got 'A'"),
    ("object A\nf : A -> A\nf A", 3, 3, "expected '=' (an equation)"),
    ("object A\ng A -> A", 2, 3, "expected ':' after the arrow name"),
    ("object A\nobject A", 2, 8, "already used"),
    ("object A\nobject P = A", 2, 13, "second factor"),
    ("object A\nobject P = A * Q", 2, 16, "unknown object 'Q'"),
    ("object A\nf : A -> A\nf = ", 3, 4, "expected a path"),
    ("object A\nschema Late", 2, 1, "first statement"),
    ("object A,\n", 1, 10, "expected an object name, got end of line"),
    ("object A\nf : A -> A $", 2, 12, "unexpected character '$'"),
])
def test_errors_name_line_and_column(text, line, col, needle):
    with pytest.raises(ParseError) as err:
        parse_schema(text)
    assert (err.value.line, err.value.col) == (line, col), str(err.value)
    assert str(err.value).startswith(f"line {line}, col {col}: ")
    assert needle in str(err.value)
    assert isinstance(err.value, SchemaError)


def test_nothing_half_added_on_a_bad_arrow_line():
    S = parse_schema("object A")
    with pytest.raises(SchemaError):
        S.equate("f", "f")
    with pytest.raises(ParseError):
        parse_schema("object A\nf, A : A -> A")  # 'A' taken: neither f nor A added


def test_path_expressions():
    S = parse_schema("object A, B\nf : A -> B\ng : B -> A")
    assert str(S.path("f.g.f")) == "f.g.f"
    assert S.path("id(B)") == S["B"].id
    with pytest.raises(ParseError, match="col 3"):
        S.path("f.f")


# ------------------------------------------------------ unclear before: each class of mistake
@pytest.mark.parametrize("text, line, col, needle", [
    ("object A, B\nf A -> B", 2, 3, "expected ':' after the arrow name (an arrow is 'f : A -> B')"),
    ("object A, B\nf, g A -> B", 2, 6, "expected ':' after the arrow name"),
    ("schema Cycle GAN", 1, 14, "a schema name is one identifier"),
    ("schema\nobject A", 1, 7, "expected a schema name after 'schema'"),
    ("schema 3D", 1, 8, "unexpected character '3'"),
    ("object\n", 1, 7, "expected an object name after 'object'"),
    ("object A, B\nf : A -> B\nid(B).f = f", 3, 7, "id(B).f does not compose"),
])
def test_a_malformed_statement_is_named_by_its_kind(text, line, col, needle):
    with pytest.raises(ParseError) as err:
        parse_schema(text)
    assert (err.value.line, err.value.col) == (line, col), str(err.value)
    assert needle in str(err.value)
    assert "unknown arrow" not in str(err.value)


def test_identities_compose_inside_a_path_as_in_python():
    S = parse_schema("object A, B\nf : A -> B\ng : B -> A\nid(A).f.id(B).g = id(A)")
    (eq,) = S.equations
    A, f, g = S["A"], S["f"], S["g"]
    assert eq.lhs == A.id >> f >> S["B"].id >> g == f >> g
    assert S.path("id(A).f") == S.path("f") == S.path("f.id(B)")


def test_a_byte_order_mark_is_skipped():
    assert parse_schema("\ufeffschema S\nobject A").name == "S"


@pytest.mark.parametrize("value, needle, path_needle", [
    (b"object A", r"must be text \(str\), got bytes: decode it first",
     r"expected a path: text \(str\) .*, a Path, an Arrow, .*; got bytes: decode it first"),
    (None, r"must be text \(str\), got NoneType", r"expected a path: .*; got NoneType"),
])
def test_parse_of_something_other_than_text_is_a_schema_error(value, needle, path_needle):
    with pytest.raises(SchemaError, match=needle) as err:
        Schema.parse(value)
    assert isinstance(err.value, TypeError)
    with pytest.raises(SchemaError, match=path_needle) as err:
        parse_schema("object A").path(value)
    assert isinstance(err.value, TypeError)
