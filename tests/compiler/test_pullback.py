"""Δ_G: a functor pulled back along a schema map keeps its networks (weight tying), and
the equations of the source hold exactly as their images do."""

import copy

import pytest
import torch
from compiler_fixtures import Join, Split, cyclegan_functor, mlp, schema
from torch import nn

from category import Schema, SchemaMap
from compiler import (
    Euclid,
    Functor,
    FunctorError,
    PathModule,
    compile_functor,
    init_arrow,
    pullback_residuals,
)

TWO_WAYS = "schema D\nobject X, Y\na, b : X -> Y\nc : Y -> X\nl : X -> X\nk : X -> X\na.c = l"
IMAGES = {"a": "f", "b": "f", "c": "g", "l": "f.g", "k": "id(Horse)"}


def sgd(groups):
    return torch.optim.SGD(groups, lr=0.1)


def pulled(seed: int = 0, text: str = TWO_WAYS, images=None):
    P, critics = cyclegan_functor(seed)
    D = Schema.parse(text)
    G = SchemaMap(D, P.schema, ob={"X": "Horse", "Y": "Zebra"}, ar=images or IMAGES)
    return P, critics, G, P.pullback(G)


def batch(n: int = 8, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return {"Horse": torch.randn(n, 2, generator=g) - 2,
            "Zebra": torch.randn(n, 2, generator=g) + 2}


def along(G, data):
    """Δ on a batch: the data of each object of D is its image's."""
    return {d.name: data[G.ob[d].name] for d in G.source.objects()}


def test_the_pullback_holds_the_same_modules():
    P, _, G, Q = pulled()
    f, g = P.modules["f"], P.modules["g"]
    assert Q.modules["a"] is f and Q.modules["b"] is f and Q.modules["c"] is g
    fg = Q.modules["l"]
    assert isinstance(fg, PathModule) and fg.steps[0] is f and fg.steps[1] is g
    assert list(Q.modules["k"].parameters()) == []  # an identity: no parameters
    assert Q.spaces["X"] == P.spaces["Horse"] and Q.spaces["Y"] == P.spaces["Zebra"]
    x = batch()["Horse"]
    assert torch.equal(Q("l")(x), P("f.g")(x)) and torch.equal(Q("k")(x), x)
    assert Q.check() is Q
    # arrows sent to the same path share one path network
    _, _, _, R = pulled(text="schema D\nobject X, Y\nu, v : X -> X",
                        images={"u": "f.g", "v": "f.g"})
    assert R.modules["u"] is R.modules["v"]


@pytest.mark.parametrize("fuse", [False, None, True])
def test_a_step_on_the_pulled_back_program_trains_the_original_networks(fuse):
    P, critics, G, Q = pulled()
    before = {a: [p.detach().clone() for p in m.parameters()] for a, m in P.modules.items()}
    # the generator loss's gradient, computed apart on copies: what one SGD step must apply
    ref_P, ref_critics = copy.deepcopy((P, critics))
    ref = compile_functor(ref_P.pullback(G), critics={"X": ref_critics["Horse"],
                                                      "Y": ref_critics["Zebra"]},
                          backend="eager", fuse=False)
    data = along(G, batch())
    ref.generator_losses(data)["total"].backward()
    want = {a: [p.detach() - 0.1 * p.grad for p in m.parameters()]
            for a, m in ref_P.modules.items()}
    prog = compile_functor(Q, critics={"X": critics["Horse"], "Y": critics["Zebra"]},
                           backend="eager", fuse=fuse, optimizer=sgd)
    prog.step(data)
    for a, m in P.modules.items():
        for old, new, w in zip(before[a], m.parameters(), want[a], strict=True):
            assert not torch.equal(old, new.detach()), a  # the original networks moved…
            assert torch.allclose(new.detach(), w, atol=1e-6), a  # …by one step, not two
    assert len(prog.parameters()) == len({id(p) for p in prog.parameters()})


def test_two_arrows_on_one_module_fuse_with_a_third_of_its_architecture():
    """f serves a and b; f and g stack into one bank: one call evaluates a, b and c."""
    results = []
    for fuse in (False, True):
        P, critics, G, Q = pulled(text="schema D\nobject X, Y\na, b : X -> Y\nc : Y -> X\n"
                                       "a.c = id(X)", images={"a": "f", "b": "f", "c": "g"})
        prog = compile_functor(Q, critics={"X": critics["Horse"], "Y": critics["Zebra"]},
                               backend="eager", fuse=fuse, optimizer=sgd)
        if fuse:
            assert [str(b) for b in prog.plan.arrow_banks.banks] == ["A0: Sequential ×2 (c, a/b)"]
            assert "stacked ×3 over bank A0" in str(prog.plan.calls[0])
        losses = prog.step(along(G, batch()))
        assert torch.equal(losses["adv:a"], losses["adv:b"])
        results.append((losses, [p.detach().clone() for m in P.modules.values()
                                 for p in m.parameters()]))
    (l0, w0), (l1, w1) = results
    assert all(torch.allclose(l0[k], l1[k], atol=1e-6) for k in l0)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(w0, w1, strict=True))


def test_residuals_of_equations_are_those_of_their_images():
    P, _, G, Q = pulled()
    data = batch()
    report = pullback_residuals(P, G, data)
    assert [str(r.equation) for r in report] == ["a.c = l"]
    [r] = report
    assert (r.image, r.holds) == ("f.g = f.g", True) and r.residual == 0.0
    # an equation of D sent onto an equation of C: the same residual as C's own
    E = Schema.parse("schema E\nobject X, Y\nu : X -> Y\nv : Y -> X\nu.v = id(X)")
    H = SchemaMap(E, P.schema, ob={"X": "Horse", "Y": "Zebra"}, ar={"u": "f", "v": "g"})
    [r] = pullback_residuals(P, H, data)
    assert r.residual == P.residuals(data)["f.g = id(Horse)"] > 0
    assert r.residual == P.pullback(H).residuals(along(H, data))["u.v = id(X)"]
    # onto an equality of C that is no equation of it: f.g.f.g = id(Horse)
    inv = SchemaMap.read("examples/involution_cyclegan.map")
    [r] = pullback_residuals(P, inv, data)
    assert (r.lhs, r.rhs, r.holds) == (P.schema.path("f.g.f.g"), P.schema["Horse"].id, True)
    assert r.residual == P.residual("f.g.f.g", "id(Horse)", data["Horse"]) > 0


def test_the_involution_check_of_a_cyclegan_functor():
    """The seed's check: is a CycleGAN's round trip f.g an involution of Horse? Its
    residual, beside the cycle equation's (random networks: both far from 0)."""
    P, _ = cyclegan_functor(seed=3)
    inv = SchemaMap.read("examples/involution_cyclegan.map")
    Q = P.pullback(inv)
    x = batch(64)["Horse"]
    involution = Q.residuals({"X": x})["s.s = id(X)"]
    assert involution == pytest.approx(P.residual("f.g.f.g", "id(Horse)", x))
    # the networks that make f.g the identity make it an involution: an exact inverse pair
    W = torch.randn(2, 2) + 3 * torch.eye(2)
    f, g = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        f.weight.copy_(W)
        g.weight.copy_(torch.linalg.inv(W))
    exact = Functor(P.schema, ob=dict(P.spaces), ar={"f": f, "g": g})
    assert exact.pullback(inv).residuals({"X": x})["s.s = id(X)"] < 1e-5


def test_a_map_that_is_not_a_functor_is_refused_with_every_failure():
    P, _ = cyclegan_functor()
    # one cycle equation only: g.f = id(Zebra) does not hold here
    C = Schema.parse("schema Half\nobject Horse, Zebra\nf : Horse -> Zebra\n"
                     "g : Zebra -> Horse\nf.g = id(Horse)")
    H = Functor(C, ob={"Horse": P.spaces["Horse"], "Zebra": P.spaces["Zebra"]},
                ar={"f": P.modules["f"], "g": P.modules["g"]})
    D = Schema.parse("schema D\nobject X, Y, Z\ns : X -> X\nt : X -> Y\nu : Y -> Y\n"
                     "u = id(Y)")
    G = SchemaMap(D, C, ob={"X": "Horse", "Y": "Zebra"}, ar={"s": "f", "t": "f", "u": "g.f"})
    failures = G.check()
    assert failures == [
        "object Z has no image",
        "arrow s : X -> X goes to f : Horse -> Zebra, but it must go Horse -> Horse",
        "equation u = id(Y) goes to g.f = id(Zebra), which does not hold in Half"]
    with pytest.raises(FunctorError) as err:
        H.pullback(G)
    assert err.value.problems == failures and "which is not a functor" in str(err.value)
    G.ob[D["Z"]] = C["Horse"]
    G.ar[D["s"]] = C.path("f.g")
    with pytest.raises(FunctorError) as err:  # only the equation is wrong now
        H.pullback(G)
    assert err.value.problems == failures[2:]
    Q = H.pullback(G, check=False)  # built all the same: the residual says how far it is
    [r] = pullback_residuals(H, G, batch())
    assert (r.image, r.holds) == ("g.f = id(Zebra)", False)
    assert r.residual == Q.residuals({"Y": batch()["Zebra"]})["u = id(Y)"] > 0
    with pytest.raises(FunctorError, match="arrow t has no image"):
        H.pullback(SchemaMap(D, C, ob={"X": "Horse", "Y": "Zebra", "Z": "Horse"}),
                   check=False)


def test_wrong_targets_are_refused():
    P, _ = cyclegan_functor()
    other = Schema.parse(open("examples/involution.schema").read())
    G = SchemaMap(other, other, ob={"X": "X"}, ar={"s": "s"})
    with pytest.raises(FunctorError, match="lands in schema Involution, but this functor is on "
                                           "schema CycleGAN"):
        P.pullback(G)
    with pytest.raises(FunctorError, match="needs a category.SchemaMap"):
        P.pullback({"X": "Horse"})


def test_pullback_through_a_product():
    """h : A -> A sent to f.g (A -> B×C -> A), k : P -> P to id(B×C): the path network
    passes a product point as arguments, and returns it as a tuple."""
    torch.manual_seed(0)
    C = schema("product")
    P = Functor(C, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    D = Schema.parse("schema D\nobject A, B, C\nobject Q = B * C\nh : A -> A\nk : Q -> Q\n"
                     "m : Q -> A\nk.m = m")
    G = SchemaMap(D, C, ob={"A": "A", "B": "B", "C": "C", "Q": "BxC"},
                  ar={"h": "f.g", "k": "id(BxC)", "m": "g"})
    Q = P.pullback(G)
    assert Q.modules["h"].products == (False, True, False)
    x = torch.randn(5, 4)
    assert torch.equal(Q("h")(x), P("f.g")(x))
    b, c = torch.randn(5, 3), torch.randn(5, 2)
    assert Q("k")((b, c)) == (b, c)
    assert Q.residuals({"B": b, "C": c}) == {"k.m = m": 0.0}
    prog = compile_functor(Q, critics={"A": mlp(4, 1), "B": mlp(3, 1), "C": mlp(2, 1)},
                           backend="eager")
    before = [p.detach().clone() for p in P.modules["f"].parameters()]
    prog.step({"A": x, "B": b, "C": c})
    assert not any(torch.equal(a, p) for a, p in zip(before, P.modules["f"].parameters()))
    # a product sent to a plain object is no product: its space says so
    bad = SchemaMap(D, C, ob={"A": "A", "B": "B", "C": "C", "Q": "A"},
                    ar={"h": "f.g", "k": "id(A)", "m": "id(A)"})
    with pytest.raises(FunctorError, match="product object Q must map to"):
        P.pullback(bad)


def test_init_arrow_copies_and_never_shares():
    """A warm start copies: weights into a module of the same architecture (in place, a
    compiled program keeps working), a deep copy for another architecture or a path."""
    P, critics = cyclegan_functor(0)
    F, _ = cyclegan_functor(1)
    prog = compile_functor(F, critics, backend="eager")
    own = F.modules["f"]
    assert init_arrow(F, "f", P, "f") == "weights" and F.modules["f"] is own
    assert all(torch.equal(a, b) for a, b in zip(own.parameters(), P.modules["f"].parameters()))
    prog.step(batch())  # the program trains the copied weights, not P's
    assert not torch.equal(own[0].weight, P.modules["f"][0].weight)
    D = Schema.parse("schema D\nobject X\nr : X -> X")
    Q = Functor(D, ob={"X": Euclid(2)}, ar={"r": nn.Linear(2, 2)})
    G = SchemaMap(D, P.schema, ob={"X": "Horse"}, ar={"r": "f.g"})
    assert init_arrow(Q, "r", P, G.ar[D["r"]]) == "path"
    x = batch()["Horse"]
    assert torch.equal(Q("r")(x), P("f.g")(x)) and Q.modules["r"].steps[0] is not P.modules["f"]
    assert init_arrow(Q, "r", P, "f.g") == "path"  # a PathModule now: the same path's copy
    R = Functor(D, ob={"X": Euclid(2)}, ar={"r": nn.Linear(2, 2)})
    assert init_arrow(R, "r", Functor(D, ob={"X": Euclid(2)}, ar={"r": mlp(2, 2)}), "r") == "module"
    with pytest.raises(FunctorError, match="keeps its own"):
        init_arrow(R, "r", P, "id(Horse)")
    with pytest.raises(FunctorError, match="domain X of D is R\\^3, but domain Horse"):
        init_arrow(Functor(D, ob={"X": Euclid(3)}, ar={"r": nn.Linear(3, 3)}), "r", P, "f.g")
