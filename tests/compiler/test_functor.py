import pytest
import sympy
import torch
from compiler_fixtures import Join, Split, mlp, schema
from torch import nn

from compiler import BatchError, Euclid, Functor, FunctorError, compile_functor


def test_every_missing_assignment_in_one_error():
    S = schema("square")
    with pytest.raises(FunctorError) as e:
        Functor(S, ob={"A": Euclid(2), "B": Euclid(2)},
                ar={"r1": nn.Linear(2, 2), "zz": nn.Linear(2, 2)})
    text = str(e.value)
    for needle in ["object C", "object D", "arrow d1", "arrow d2", "arrow r2", "'zz'"]:
        assert needle in text
    assert len(e.value.problems) == 6


def test_check_reports_every_bad_arrow():
    S = schema("square")
    F = Functor(S, ob={o: Euclid(2) for o in "ABCD"},
                ar={"r1": nn.Linear(2, 3), "d1": nn.Linear(2, 2), "d2": nn.Linear(5, 2),
                    "r2": nn.Linear(2, 2)})
    with pytest.raises(FunctorError) as e:
        F.check()
    assert len(e.value.problems) == 2
    r1, d2 = e.value.problems
    assert "arrow r1" in r1 and "expected R^2, got R^3" in r1
    assert "arrow d2" in d2 and "fails on input R^2" in d2


def test_path_is_the_composite_and_identity_is_identity():
    S = schema("cyclegan")
    f, g = nn.Linear(2, 2), nn.Linear(2, 2)
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)}, ar={"f": f, "g": g})
    x = torch.randn(5, 2)
    assert torch.allclose(F(S.path("f.g"))(x), g(f(x)))
    assert torch.equal(F(S["Horse"].id)(x), x)
    assert list(F(S["Horse"].id).parameters()) == []
    assert len(list(F(S.path("f.g.f")).parameters())) == 4


def test_product_object_maps_to_product_of_factors():
    S = schema("product")
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    assert str(F(S["BxC"])) == "R^3 × R^2"
    F.check()
    out = F(S.path("f"))(torch.randn(6, 4))
    assert [tuple(t.shape) for t in out] == [(6, 3), (6, 2)]


def test_residuals_measure_each_equation():
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": nn.Identity(), "g": mlp(2, 2)})
    x = torch.randn(8, 2)
    r = F.residuals({"Horse": x, "Zebra": x})
    g = F.modules[S["g"]]
    expected = (g(x) - x).abs().mean().item()
    assert r["f.g = id(Horse)"] == pytest.approx(expected)
    assert r["g.f = id(Zebra)"] == pytest.approx(expected)


def test_compile_lists_every_problem_at_once():
    n = sympy.Symbol("n")
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(3), "Zebra": Euclid(n)},
                ar={"f": nn.Linear(3, 4), "g": nn.Linear(2, 3)})
    with pytest.raises(FunctorError) as e:
        compile_functor(F, critics={"Horse": nn.Linear(5, 1)}, backend="eager")
    text = "\n".join(e.value.problems)
    assert "unbound symbol(s) n" in text           # symbol left unbound
    assert "critic for Horse" in text and "R^3" in text  # critic of the wrong input shape
    assert "no critic for Zebra" in text            # missing critic
    # with n bound, f's output shape is the problem that remains besides the critic
    with pytest.raises(FunctorError) as e:
        compile_functor(F, critics={"Horse": nn.Linear(5, 1), "Zebra": nn.Linear(2, 1)},
                        backend="eager", bind={n: 2})
    text = "\n".join(e.value.problems)
    assert "arrow f : Horse -> Zebra: expected R^2, got R^4" in text
    assert "critic for Horse" in text
    assert len(e.value.problems) == 2


def test_missing_arrow_fails_before_compiling():
    S = schema("cyclegan")
    with pytest.raises(FunctorError, match="arrow g : Zebra -> Horse has no network"):
        Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)}, ar={"f": nn.Linear(2, 2)})


def test_a_wrong_value_is_reported_once_not_also_as_missing():
    S = schema("cyclegan")
    with pytest.raises(FunctorError) as e:
        Functor(S, ob={"Horse": (2,), "Zebra": Euclid(2)},
                ar={"f": lambda x: x, "g": nn.Linear(2, 2)})
    assert e.value.problems == ["object Horse must map to a space (Euclid), got tuple",
                                "arrow f must map to a torch.nn.Module, got function"]


def test_bind_lists_unknown_symbols_and_bad_values():
    n = sympy.Symbol("n")
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(n), "Zebra": Euclid(n)},
                ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
    assert F.bind({"n": 2})("Horse") == Euclid(2)  # a symbol or its name
    with pytest.raises(FunctorError) as e:
        F.bind({"m": 2, n: 0})
    assert e.value.problems == ["bind: 'm' is not a symbol of the functor's spaces (symbols: n)",
                                "bind: n must be a positive int, got 0"]
    with pytest.raises(FunctorError, match="bind: 'm' is not a symbol"):
        compile_functor(F, critics={"Horse": nn.Linear(2, 1), "Zebra": nn.Linear(2, 1)},
                        backend="eager", bind={n: 2, "m": 3})


def test_residuals_check_their_batch():
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": nn.Identity(), "g": mlp(2, 2)})
    with pytest.raises(BatchError, match=r"Horse: expected shape \(batch, 2\) .* got \(8, 3\)"):
        F.residuals({"Horse": torch.randn(8, 3)})
    assert list(F.residuals({"Zebra": torch.randn(8, 2)})) == ["g.f = id(Zebra)"]


def test_a_program_with_nothing_to_train_is_refused():
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
    with pytest.raises(FunctorError, match=r"nothing to train: .*\(data_objects: none\)"):
        compile_functor(F, critics={"Horse": nn.Linear(2, 1), "Zebra": nn.Linear(2, 1)},
                        backend="eager", data_objects=[])


def test_residuals_check_a_product_batch_factor_by_factor():
    S = schema("product")
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    with pytest.raises(BatchError, match=r"BxC: expected a tuple of 2 tensors \(R\^3 × R\^2\)"):
        F.residuals({"BxC": torch.randn(3, 5)})
    with pytest.raises(BatchError, match=r"BxC: expected shape \(batch, 2\) .* got \(3, 1\)"):
        F.residuals({"BxC": (torch.randn(3, 3), torch.randn(3, 1))})
    assert list(F.residuals({"B": torch.randn(3, 3), "C": torch.randn(3, 2)})) == ["g.f = id(BxC)"]


# ------------------------------------------------------ misuse of the Python API
def cyclegan_functor():
    S = schema("cyclegan")
    return Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                   ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})


@pytest.mark.parametrize("kw, needle", [
    ({"ob": [Euclid(2), Euclid(2)], "ar": {}}, "ob must be a mapping .* got list: pair each"),
    ({"ob": {"Horse": Euclid(2)}, "ar": [nn.Linear(2, 2)]}, "ar must be a mapping .* got list"),
])
def test_a_list_where_a_mapping_is_expected_is_named(kw, needle):
    with pytest.raises(FunctorError, match=needle):
        Functor(schema("cyclegan"), **kw)


def test_compile_functor_names_a_list_of_critics():
    F = cyclegan_functor()
    with pytest.raises(FunctorError, match=r"critics must be a mapping .* got list"):
        compile_functor(F, critics=[mlp(2, 1), mlp(2, 1)], backend="eager")
    with pytest.raises(FunctorError, match=r"priors must be a mapping .* got list"):
        compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)},
                        priors=["normal"], backend="eager")


def test_modules_and_spaces_are_looked_up_by_name_too():
    from compiler import UnknownKeyError

    F = cyclegan_functor()
    S = F.schema
    assert F.modules["f"] is F.modules[S["f"]] and "f" in F.modules
    assert F.spaces["Horse"] == Euclid(2) and F.modules.get("g") is F.modules[S["g"]]
    with pytest.raises(UnknownKeyError, match=r"'h' is not an arrow of schema CycleGAN .*"
                                              r"known: f, g") as err:
        F.modules["h"]
    assert isinstance(err.value, KeyError)


def test_a_path_of_another_schema_is_named():
    from category import Schema
    from compiler import UnknownKeyError

    F = cyclegan_functor()
    T = Schema.parse("object A\nf : A -> A")
    with pytest.raises(UnknownKeyError, match=r"f is not a path of schema CycleGAN: arrow f : "
                                              r"A -> A is not one of its arrows"):
        F(T.path("f.f"))
    with pytest.raises(UnknownKeyError, match="A is not an object of schema CycleGAN"):
        F(T["A"])
    with pytest.raises(FunctorError, match="F.x. takes an object, arrow or path"):
        F(3)


def test_a_module_both_arrow_and_critic_is_named():
    F = cyclegan_functor()
    with pytest.raises(FunctorError, match=r"one module is both the network of arrow f and "
                                           r"the critic for Zebra"):
        compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": F.modules["f"]},
                        backend="eager")


def test_every_bad_key_is_listed_with_the_schemas_reason():
    """Keys are resolved by the schema (Schema.ob, Schema.generator): a misspelt name gets
    a did-you-mean, a name of the other kind says so, every one is listed."""
    S, T = schema("cyclegan"), schema("square")
    with pytest.raises(FunctorError) as e:
        Functor(S, ob={"Horse": Euclid(2), "Zebar": Euclid(2), 3: Euclid(2), "f": Euclid(2),
                       T["A"]: Euclid(2)},
                ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2), "Horse": nn.Linear(2, 2)})
    assert e.value.problems == [
        "ob: unknown object 'Zebar' in schema 'CycleGAN' (did you mean 'Zebra'?)",
        "ob: expected an object (Ob or its name), got int 3",
        "ob: expected an object name of schema 'CycleGAN', got 'f', which names an arrow; "
        "known objects: Horse, Zebra",
        "ob: unknown object 'A' in schema 'CycleGAN'; known: Horse, Zebra",
        "ar: expected an arrow name of schema 'CycleGAN', got 'Horse', which names an "
        "object; known arrows: f, g",
        "object Zebra has no space (ob={Zebra: Euclid(...)})"]
    F, critics = cyclegan_functor(), {"Horse": nn.Linear(2, 1), "Zebra": nn.Linear(2, 1)}
    with pytest.raises(FunctorError) as e:
        compile_functor(F, critics={**critics, "Hrose": nn.Linear(2, 1)},
                        priors={"Zebar": "normal"}, data_objects=["Horse", "Zebra", "g"],
                        backend="eager")
    assert [p.split(":")[0] for p in e.value.problems] == ["data_objects", "critics", "priors"]
    assert "critics: unknown object 'Hrose' in schema 'CycleGAN' (did you mean 'Horse'?)" \
        in e.value.problems
