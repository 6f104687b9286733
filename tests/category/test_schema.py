import inspect

import networkx as nx
import pytest
from hypothesis import given, settings

from category import (
    Arrow,
    BoundError,
    CompositionError,
    DuplicateNameError,
    EquationError,
    InvalidNameError,
    Ob,
    Schema,
    SchemaError,
    SchemaTypeError,
    UnknownNameError,
)

from .strategies import schemas_with_equations


def cyclegan() -> Schema:
    S = Schema("CycleGAN")
    H, Z = S.objects("Horse", "Zebra")
    f = S.arrow("f", H, Z)
    g = S.arrow("g", Z, H)
    S.equate(f >> g, H.id)
    S.equate(g >> f, Z.id)
    return S


def snapshot(S: Schema):
    return (S.objects(), S.arrows, S.equations, str(S))


def test_builder_and_read_access():
    S = cyclegan()
    H, Z = S.objects()
    assert S["f"] == Arrow("f", H, Z)
    assert S["Horse"] == H
    assert [str(e) for e in S.equations] == ["f.g = id(Horse)", "g.f = id(Zebra)"]
    assert S.out_arrows("Horse") == (S["f"],)
    assert "f" in S and H in S and Ob("Mule") not in S
    assert S.path("f.g.f") == S["f"] >> S["g"] >> S["f"]


def test_arrow_and_equate_accept_names_and_text():
    S = Schema("T")
    S.objects("A", "B")
    f = S.arrow("f", "A", "B")
    g = S.arrow("g", "B", "A")
    e = S.equate("f.g", "id(A)")
    assert e.lhs == f >> g and e.rhs == S["A"].id


def test_graph_is_a_multidigraph_keyed_by_arrow_name():
    S = Schema.parse("object A, B\nf, g : A -> B\nl : A -> A")
    G = S.graph
    assert isinstance(G, nx.MultiDiGraph)
    A, B = S.objects()
    assert set(G.nodes) == {A, B}
    assert set(G[A][B]) == {"f", "g"} and set(G[A][A]) == {"l"}
    assert G[A][B]["f"]["arrow"] == S["f"]
    G.remove_node(A)  # a copy: the schema is untouched
    assert len(S.graph) == 2


def test_equality_by_content_and_not_hashable():
    assert cyclegan() == cyclegan()
    other = cyclegan()
    other.arrow("h", "Horse", "Horse")
    assert other != cyclegan()
    with pytest.raises(TypeError):
        hash(cyclegan())


def test_text_round_trip_keeps_products_in_declaration_order():
    S = Schema("P")
    A = S.object("A")
    B, C = S.objects("B", "C")
    BxC = S.product("BxC", B, C)
    D = S.object("D")
    S.arrow("f", A, BxC)
    S.arrow("g", BxC, D)
    assert Schema.parse(str(S)) == S
    assert str(S).splitlines()[1:4] == ["object A, B, C", "object BxC = B * C", "object D"]


@settings(max_examples=60, deadline=None)
@given(schemas_with_equations())
def test_random_schemas_round_trip_through_text(S):
    assert Schema.parse(str(S)) == S
    assert Schema.parse(S.to_text()).to_text() == S.to_text()


# --- bad input: each names what is wrong, and leaves the schema unchanged ----------

def test_duplicate_names_across_objects_and_arrows():
    S = cyclegan()
    before = snapshot(S)
    with pytest.raises(DuplicateNameError, match="'Horse' is already used by object Horse"):
        S.objects("Donkey", "Horse")
    with pytest.raises(DuplicateNameError, match="arrow f : Horse -> Zebra"):
        S.object("f")
    with pytest.raises(DuplicateNameError):
        S.arrow("Zebra", "Horse", "Horse")
    with pytest.raises(DuplicateNameError, match="same call"):
        S.objects("X", "X")
    assert snapshot(S) == before  # 'Donkey' and 'X' were not half-added


def test_arrow_to_undeclared_object_suggests_the_closest_name():
    S = cyclegan()
    before = snapshot(S)
    with pytest.raises(UnknownNameError) as err:
        S.arrow("h", "Horse", "Zebar")
    assert str(err.value) == ("unknown object 'Zebar' in schema 'CycleGAN' "
                              "(did you mean 'Zebra'?)")
    with pytest.raises(UnknownNameError, match="'Mule'"):
        S.arrow("h", Ob("Mule"), "Horse")
    with pytest.raises(SchemaError, match="not the one declared"):
        S.arrow("h", Ob("Horse", (Ob("A"), Ob("B"))), "Horse")
    with pytest.raises(TypeError, match="expected an object"):
        S.arrow("h", 3, "Horse")
    assert snapshot(S) == before


def test_product_of_undeclared_objects():
    S = Schema("P")
    S.objects("B")
    with pytest.raises(UnknownNameError, match="'C'"):
        S.product("BxC", "B", "C")
    with pytest.raises(SchemaError, match="two factors"):
        S.product("BB", "B")
    assert S.objects() == (Ob("B"),)


def test_bad_names():
    S = Schema("T")
    for name in ("", "has space", "9lives"):
        with pytest.raises(InvalidNameError, match="invalid object name"):
            S.objects(name)
    with pytest.raises(InvalidNameError, match="invalid schema name"):
        Schema("my schema")
    assert S.objects() == ()


def test_bad_equations():
    S = cyclegan()
    before = snapshot(S)
    f, g = S["f"], S["g"]
    with pytest.raises(EquationError, match="same cod"):
        S.equate(f, S["Horse"].id)
    with pytest.raises(SchemaError, match="col 3: f.f does not compose"):
        S.equate("f.f", "f")
    with pytest.raises(CompositionError, match="f.f does not compose"):
        S.equate(f >> f, f)
    with pytest.raises(UnknownNameError, match="unknown arrow 'k'"):
        S.equate("f.k", "f")
    stranger = Arrow("h", f.dom, f.cod)
    with pytest.raises(UnknownNameError, match="'h'"):
        S.equate(stranger, f)
    with pytest.raises(SchemaError, match="not the one declared"):
        S.equate(Arrow("f", g.dom, g.cod), g)
    assert snapshot(S) == before


def test_unknown_lookup_is_not_a_bare_keyerror():
    with pytest.raises(UnknownNameError) as err:
        cyclegan()["h"]
    assert "unknown object or arrow 'h'" in str(err.value)
    assert not str(err.value).startswith("'")


def test_resolvers_take_a_value_or_its_name_and_return_the_schemas_own():
    S = cyclegan()
    H, Z = S.objects()
    f, g = S.arrows
    assert S.ob("Horse") is H and S.ob(H) is H and S.ob(Ob("Zebra")) == Z
    assert S.generator("f") is f and S.generator(Arrow("g", Z, H)) == g
    assert S.path("f.g") == S.path(f >> g) == f >> g
    assert S.path(f) == f.path and S.path(H) == S.path("id(Horse)") == H.id
    assert S.equate("f.g", H) == S.equations[0]  # an object stands for its identity


@pytest.mark.parametrize("method, value, error, needle", [
    ("ob", "Hrose", UnknownNameError, r"unknown object 'Hrose' .*did you mean 'Horse'"),
    ("ob", "Mule", UnknownNameError, r"unknown object 'Mule' .*known: Horse, Zebra"),
    ("ob", "f", UnknownNameError,
     r"expected an object name of schema 'CycleGAN', got 'f', which names an arrow; "
     r"known objects: Horse, Zebra"),
    ("ob", Ob("Mule"), UnknownNameError, "unknown object 'Mule'"),
    ("ob", Ob("Horse", (Ob("A"), Ob("B"))), SchemaError, "not the one declared"),
    ("ob", 3, SchemaTypeError, r"expected an object \(Ob or its name\), got int 3"),
    ("generator", "k", UnknownNameError, "unknown arrow 'k'"),
    ("generator", "Horse", UnknownNameError,
     "expected an arrow name .* got 'Horse', which names an object; known arrows: f, g"),
    ("generator", Arrow("f", Ob("Zebra"), Ob("Horse")), SchemaError, "not the one declared"),
    ("generator", Ob("Horse"), SchemaTypeError, "expected an arrow"),
    ("path", "f.k", UnknownNameError, "col 3: unknown arrow 'k'"),
    ("path", Arrow("h", Ob("Horse"), Ob("Zebra")), UnknownNameError, "unknown arrow 'h'"),
    ("path", Ob("Mule").id, UnknownNameError, "unknown object 'Mule'"),
    ("path", Ob("Mule"), UnknownNameError, "unknown object 'Mule'"),
    ("path", 3, SchemaTypeError, "expected a path: .*; got int"),
])
def test_resolvers_name_what_came_and_what_is_known(method, value, error, needle):
    S = cyclegan()
    with pytest.raises(error, match=needle):
        getattr(S, method)(value)


# Every public method of Schema that returns an iterator, with bad arguments for it: a
# generator function would raise only at the first next(), far from the mistake.
BAD_ITERATOR_ARGUMENTS = {
    "paths": [
        ((-1,), {}, BoundError, "max_length must be an int >= 0, got -1"),
        ((1.5,), {}, BoundError, "max_length must be an int >= 0, got 1.5"),
        (("2",), {}, BoundError, "max_length must be an int >= 0, got '2'"),
        ((True,), {}, BoundError, "max_length must be an int >= 0, got True"),
        ((2,), {"dom": "Zebar"}, UnknownNameError, "unknown object 'Zebar'.*'Zebra'"),
        ((2,), {"cod": "Mule"}, UnknownNameError, "unknown object 'Mule'"),
        ((2,), {"dom": 3}, SchemaTypeError, "expected an object .*, got int 3"),
    ],
    "hom": [
        (("Horse", "Zebar"), {}, UnknownNameError, "unknown object 'Zebar'"),
        ((None, "Zebra"), {}, SchemaTypeError, "expected an object .*, got NoneType"),
        (("Horse", "Zebra"), {"max_length": -1}, BoundError,
         r"max_length must be an int >= 0 or None, got -1"),
    ],
    "morphisms": [
        ((), {"max_length": -1}, BoundError, r"max_length must be an int >= 0 or None, got -1"),
        ((), {"max_length": "3"}, BoundError, "got '3'"),
    ],
}


def test_every_iterator_returning_method_has_bad_arguments_to_try():
    returning = {name for name, fn in inspect.getmembers(Schema, inspect.isfunction)
                 if not name.startswith("_")
                 and str(inspect.signature(fn).return_annotation).startswith("Iterator")}
    assert returning == set(BAD_ITERATOR_ARGUMENTS)


@pytest.mark.parametrize(("method", "args", "kwargs", "error", "match"), [
    (method, *case) for method, cases in BAD_ITERATOR_ARGUMENTS.items() for case in cases])
def test_iterator_methods_check_their_arguments_at_the_call(method, args, kwargs, error,
                                                            match):
    S = cyclegan()
    with pytest.raises(error, match=match):
        getattr(S, method)(*args, **kwargs)  # not iterated: the call itself must raise
