"""The seed's schemas as built-in experiments: each builds, its evaluation is right at the
start (identity-started networks score exactly as the identity), and it trains."""

import pytest
import torch

from category import Schema
from compiler import Euclid, Functor, init_arrow
from runtime import Options, Trainer
from runtime.errors import ExperimentError
from runtime.experiments import equalizer_circles as eq
from runtime.experiments import prepare
from runtime.experiments import triangle_fonts as tri
from runtime.experiments.font_pairs import font_glyphs
from runtime.experiments.nets import IdentityStartGenerator, PlacedWarp, WarpThenEdit, ink_centres
from runtime.report.measures import per_input_mae
from runtime.sources import glyphs


@pytest.fixture(scope="module")
def triangle():
    return prepare("triangle_fonts", device="cpu", backend="eager")


def test_triangle_at_the_start_every_arrow_is_the_identity(triangle):
    exp, program = triangle
    table = exp.evaluate(program)
    assert set(table) == {"ab", "bc", "ac", "ab.bc", "triangle"}
    for row in ("ab", "bc", "ac", "ab.bc"):
        assert table[row]["ratio"] == pytest.approx(1.0)
        assert table[row]["worst_decile_ratio"] == pytest.approx(1.0)  # the identity, in every tail
    assert table["triangle"]["residual"] == 0.0  # both routes are the identity
    assert table["ab"]["identity_mae"] > 0.03  # the fonts do differ on held-out glyphs
    assert [str(e) for e in exp.schema.equations] == ["ab.bc = ac"]


def test_triangle_worst_inputs_are_the_glyphs_ac_translates_worst(triangle):
    exp, program = triangle
    S = exp.schema
    worst = exp.worst(program, 3)
    assert set(worst) == {S["Sans"], S["Bold"]}
    w = worst[S["Sans"]]
    assert w.by == "ac's MAE" and [label for label, _ in w.references] == [
        "truth: Bold", "truth: BoldOblique"]
    # ac is the identity at the start: its error on a glyph is the glyph's distance to
    # its BoldOblique; the three shown are the three largest of all held-out glyphs
    test = font_glyphs({"Sans": tri.FONTS["Sans"], "BoldOblique": tri.FONTS["BoldOblique"]},
                       torch.device("cpu")).test
    every = per_input_mae(test["Sans"], test["BoldOblique"]).sort(descending=True).values
    assert torch.allclose(per_input_mae(w.inputs, w.references[1][1]), every[:3])


def test_triangle_without_its_equation_keeps_the_residual_logged(tmp_path):
    exp, program = prepare("triangle_fonts", device="cpu", backend="eager", equation_weight=0)
    trainer = Trainer(program, exp.data, tmp_path / "run", steps=2, batch_size=4,
                      **exp.trainer_extras(), progress=False, tensorboard=False)
    trainer.fit()
    losses = program.generator_losses(next(trainer.batches))
    adversarial = sum(v for k, v in losses.items() if k.startswith("adv:"))
    assert losses["eq:ab.bc = ac"] > 0  # still measured…
    assert torch.isclose(losses["total"], adversarial)  # …but weighed 0 in the total


def test_the_given_maps_read_the_colours_they_claim():
    fg, bg = torch.tensor([[0.5, -0.25, 1.0]]), torch.tensor([[-1.0, 0.0, 0.75]])
    img = eq.circle_images(bg, fg)
    h, g, back = eq.Inside(), eq.ComplementInside(), eq.Background()
    centre, corner = (slice(None), 16, 16), (slice(None), 0, 0)
    assert torch.allclose(h(img)[0][centre], fg[0]) and h(img)[0][corner].eq(0).all()
    assert torch.allclose(g(img)[0][centre], -bg[0], atol=1e-6)
    assert torch.allclose(back(img)[0][centre], bg[0], atol=1e-6)
    assert torch.allclose(back(img), eq.plain(bg), atol=1e-6)  # the circle is gone
    truth = eq.circle_images(bg, -bg)  # the equalizer's circle: h and g agree on it
    assert torch.allclose(h(truth), g(truth), atol=1e-5)
    assert not torch.allclose(h(img), g(img), atol=0.1)


def test_equalizer_scores_the_identity_and_trains(tmp_path):
    exp, program = prepare("equalizer_circles", device="cpu", backend="eager")
    table = exp.evaluate(program)
    assert table["f"]["ratio"] == pytest.approx(1.0)
    assert table["f"]["worst_decile_ratio"] == pytest.approx(1.0)
    # a plain image: back(f(a)) = a holds, f.h = f.g does not (its circle is X, not -X)
    assert table["f.back"]["residual"] < 1e-5
    assert table["equalizer"]["residual"] == pytest.approx(table["equalizer"]["identity_residual"])
    assert table["equalizer"]["identity_residual"] > 0.5
    trainer = Trainer(program, exp.data, tmp_path / "run", steps=2, batch_size=4,
                      **exp.trainer_extras(), progress=False, tensorboard=False)
    assert set(trainer.fit()) == {"f", "equalizer", "f.back", "circle"}
    assert (tmp_path / "run" / "samples" / "step-00000002" / "Plain.png").is_file()


def test_a_warp_before_the_editor_starts_as_the_identity_and_moves_ink():
    """WarpThenEdit is the identity at start (warp and editor both); a shear θ moves a
    vertical stroke sideways by row — ink moved, not painted beside — and its gradient
    reaches θ, so the adversarial loss can learn a slant."""
    torch.manual_seed(0)
    net = WarpThenEdit()
    x = torch.full((2, 1, 32, 32), -1.0)
    x[:, :, :, 14:18] = 1.0  # a vertical bar
    assert torch.allclose(net(x), x, atol=1e-5)
    with torch.no_grad():
        net.theta[0, 1] = 0.25  # x_in = x + 0.25 y: a shear
    y = net.warp(x)
    top, bottom = y[0, 0, 2].argmax().item(), y[0, 0, 29].argmax().item()
    assert top != bottom  # the bar leans
    assert y.sum().item() == pytest.approx(x.sum().item(), rel=0.05)  # as much ink
    net(x).sum().backward()
    assert net.theta.grad is not None and net.theta.grad.abs().sum() > 0


def test_a_placed_warp_keeps_each_glyphs_ink_centred_where_one_map_moves_it():
    """``place=True``: a shear moves an L-shaped glyph's ink box sideways (its corner is
    not under its middle); the placed warp puts the box centre back on the input's, to a
    fraction of a pixel, and stays the identity at θ = 0. On real held-out glyphs the
    placed shear is closer to the true oblique face than the plain one."""
    x = torch.full((1, 1, 32, 32), -1.0)
    x[0, 0, 6:26, 8:12] = 1.0   # the stem
    x[0, 0, 22:26, 8:24] = 1.0  # the foot
    plain, placed = WarpThenEdit(), WarpThenEdit(place=True)
    assert torch.equal(placed(x), x)
    with torch.no_grad():
        plain.theta[0, 1] = placed.theta[0, 1] = 0.2
        col0, row0 = ink_centres(x)
        col_plain, _ = ink_centres(plain.warp(x))
        col_placed, row_placed = ink_centres(placed.warp(x))
    assert abs(col_plain - col0).item() > 1.0
    assert abs(col_placed - col0).item() < 0.3 and abs(row_placed - row0).item() < 0.3
    placed.warp(x)[..., :10].sum().backward()  # the ink of the left columns: a shear moves it
    assert placed.theta.grad[0, 1].abs() > 0  # the shear still learns through the placing

    data = font_glyphs({"Bold": "DejaVuSans-Bold.ttf", "Oblique": "DejaVuSans-BoldOblique.ttf"},
                       torch.device("cpu"))
    bold, oblique = data.test["Bold"], data.test["Oblique"]
    with torch.no_grad():
        plain_error = per_input_mae(plain.warp(bold), oblique).mean()
        placed_error = per_input_mae(placed.warp(bold), oblique).mean()
    assert placed_error < 0.6 * plain_error


def test_a_placed_warp_alone_moves_ink_and_can_neither_make_nor_erase_it():
    """``PlacedWarp``: the identity at start, then the placed warp of ``WarpThenEdit``
    exactly (``shear_only``: of the map ``[[0, s, 0], [0, 0, 0]]``); whatever its map, a
    glyph keeps about its ink (what keeps ``triangle_fonts``' ``bc`` from turning ``ab``'s
    glyphs black), and the map learns through it."""
    x = glyphs("DejaVuSans-Bold.ttf", chars="Rk7", size=32).tensor
    free, shear, reference = PlacedWarp(), PlacedWarp(shear_only=True), WarpThenEdit(place=True)
    assert shear.theta.shape == (1,) and free.theta.shape == (2, 3)
    with torch.no_grad():
        assert torch.equal(free(x), x) and torch.equal(shear(x), x)
        shear.theta.fill_(0.2)
        reference.theta.copy_(torch.tensor([[0.0, 0.2, 0.0], [0.0, 0.0, 0.0]]))
        assert torch.equal(shear(x), reference.warp(x))
        free.theta.copy_(torch.tensor([[0.1, -0.3, 0.2], [0.05, 0.1, -0.1]]))
        reference.theta.copy_(free.theta)
        assert torch.equal(free(x), reference.warp(x))
        for warp in (shear, free):
            ink, moved = (x + 1).sum(dim=(1, 2, 3)), (warp(x) + 1).sum(dim=(1, 2, 3))
            assert torch.allclose(moved, ink, rtol=0.25)
    shear(x)[..., :12].sum().backward()
    assert shear.theta.grad.abs().item() > 0


def test_triangle_takes_other_networks_for_named_arrows_only(tmp_path):
    """By default bc is a placed shear, ac a placed warp then an editor, ab an editor;
    ``networks`` replaces the named arrows only, and an unknown arrow name is refused by
    name."""
    kinds = {a.name: (type(m).__name__, getattr(m, "place", None))
             for a, m in tri.build(Options(torch.device("cpu"))).functor.modules.items()}
    assert kinds == {"ab": ("IdentityStartGenerator", None), "bc": ("PlacedWarp", None),
                     "ac": ("WarpThenEdit", True)}
    bc = tri.build(Options(torch.device("cpu"))).functor.modules["bc"]
    assert bc.shear_only
    exp = tri.build(Options(torch.device("cpu")), networks={"bc": IdentityStartGenerator})
    kinds = {a.name: type(m).__name__ for a, m in exp.functor.modules.items()}
    assert kinds == {"ab": "IdentityStartGenerator", "bc": "IdentityStartGenerator",
                     "ac": "WarpThenEdit"}
    with pytest.raises(ExperimentError, match="networks for cb, but its arrows are ab, bc and ac"):
        tri.build(Options(torch.device("cpu")), networks={"cb": WarpThenEdit})


def test_a_warped_arrow_warm_starts_from_an_editor_as_that_editor():
    """A warm start along a map copies a source run's editor into the triangle's placed warp
    in place ("weights", not a swapped module): the warp is the identity again and the
    arrow computes what the source's editor computes; a network of another kind is not
    taken in (its module is copied instead, as for any other architecture)."""
    C = Schema.parse("object A\nobject B\nf : A -> B")
    space = Euclid(1, 32, 32)
    torch.manual_seed(0)
    editor = IdentityStartGenerator()
    torch.nn.init.normal_(editor.body[-1].weight, std=0.05)  # not the identity any more
    source = Functor(C, ob={"A": space, "B": space}, ar={"f": editor})
    warped = WarpThenEdit(place=True)
    with torch.no_grad():
        warped.theta[0, 1] = 0.2
    target = Functor(C, ob={"A": space, "B": space}, ar={"f": warped})
    assert init_arrow(target, "f", source, "f") == "weights"
    assert target.modules["f"] is warped and torch.count_nonzero(warped.theta) == 0
    x = glyphs("DejaVuSans.ttf", chars="Rk7", size=32).tensor
    with torch.no_grad():
        assert torch.equal(warped(x), editor(x))
    other = Functor(C, ob={"A": space, "B": space}, ar={"f": torch.nn.Identity()})
    assert init_arrow(target, "f", other, "f") == "module"
