"""Data along schema maps: Δ (pullback_data) reuses the target's sources, Σ
(pushforward_data) merges the sources of the objects a map merges."""

import pytest
import torch
from torch import nn

from category import Schema, SchemaMap
from compiler import Euclid, Functor, compile_functor
from runtime.errors import SourceError
from runtime.sources import (
    Concat,
    GaussianPrior,
    Product,
    TensorSource,
    check_data,
    pullback_data,
    pushforward_data,
)
from runtime.train.loader import Batches
from runtime.train.networks import load_weights, weights


def ids(start, n, dim=2):
    """Samples whose first coordinate is their number: start, start + 1, …"""
    x = torch.zeros(n, dim)
    x[:, 0] = torch.arange(start, start + n, dtype=torch.float32)
    return TensorSource(x)


def merge_map() -> SchemaMap:
    return SchemaMap.read("examples/triangle_fonts.map")


def test_pullback_data_gives_each_object_its_images_source_itself():
    G = SchemaMap.read("examples/involution_cyclegan.map")
    horses, zebras = ids(0, 5), ids(100, 3)
    pulled = pullback_data(G, {"Horse": horses, G.target["Zebra"]: zebras})
    assert pulled == {"X": horses} and pulled["X"] is horses
    merged = pullback_data(merge_map(), {"Sans": horses, "Bold": zebras})
    assert merged["Bold"] is merged["BoldOblique"] is zebras


def test_pushforward_data_concatenates_the_preimages_of_a_merged_object():
    G = merge_map()
    data = {"Sans": ids(0, 4), "Bold": ids(10, 3), "BoldOblique": ids(20, 5)}
    out = pushforward_data(G, data, spaces={"Sans": Euclid(2), "Bold": Euclid(2)})
    assert out["Sans"] is data["Sans"] and isinstance(out["Bold"], Concat)
    bold = out["Bold"]
    assert len(bold) == 8
    assert [int(bold[i][0]) for i in range(8)] == [10, 11, 12, 20, 21, 22, 23, 24]
    idx = torch.tensor([7, 0, 3, 2, 5])
    assert torch.equal(bold.gather(idx), torch.stack([bold[i] for i in idx.tolist()]))
    with pytest.raises(IndexError):
        bold[8]
    # the loader reads it like any source: an epoch is a permutation of all 8
    b = Batches(out, 4, seed=0)
    seen = torch.cat([next(b)["Bold"][:, 0] for _ in range(2)])
    assert sorted(seen.long().tolist()) == [10, 11, 12, 20, 21, 22, 23, 24]


def test_merged_samples_must_fit_one_space():
    G = merge_map()
    data = {"Bold": ids(0, 3, dim=2), "BoldOblique": ids(0, 3, dim=3)}
    with pytest.raises(SourceError, match=r"object Bold merges the data of Bold, BoldOblique, "
                                          r"whose samples differ \(Bold: \(2,\) torch.float32; "
                                          r"BoldOblique: \(3,\) torch.float32\)"):
        pushforward_data(G, data)
    with pytest.raises(SourceError, match=r"source for object Bold \(the data of BoldOblique of "
                                          r"Triangle\) \(R\^2\): expected shape \(2,\), found "
                                          r"\(3,\)"):
        pushforward_data(G, data, spaces={"Sans": Euclid(2), "Bold": Euclid(2)})
    with pytest.raises(SourceError, match="spaces has no space for object Bold"):
        pushforward_data(G, data, spaces={"Sans": Euclid(2)})


def test_priors_and_products():
    G = merge_map()
    with pytest.raises(SourceError, match="BoldOblique's source draws fresh samples"):
        pushforward_data(G, {"Bold": ids(0, 3), "BoldOblique": GaussianPrior(2)})
    alone = GaussianPrior(2)
    assert pushforward_data(G, {"BoldOblique": alone})["Bold"] is alone
    # product objects merge factor by factor: still a Product the loader pairs by index
    D = Schema.parse("schema D\nobject B, C\nobject P = B * C\nobject Q = B * C")
    C = Schema.parse("schema C\nobject B, C\nobject P = B * C")
    H = SchemaMap(D, C, ob={"B": "B", "C": "C", "P": "P", "Q": "P"})
    p = Product(ids(0, 2), ids(50, 2, dim=1))
    q = (ids(10, 3), ids(60, 3, dim=1))  # a tuple of sources is a Product too
    merged = pushforward_data(H, {"P": p, "Q": q})["P"]
    assert isinstance(merged, Product) and len(merged) == 5
    assert [(int(b[0]), int(c[0])) for b, c in (merged[i] for i in range(5))] == [
        (0, 50), (1, 51), (10, 60), (11, 61), (12, 62)]


def test_bad_input_is_refused_where_it_enters():
    G = merge_map()
    G.ob.pop(G.source["BoldOblique"])
    with pytest.raises(SourceError, match="gives no image to object"):
        pullback_data(G, {})
    G = merge_map()
    with pytest.raises(SourceError, match="'Italic' is not an object of the map's source"):
        pushforward_data(G, {"Italic": ids(0, 2)})
    with pytest.raises(SourceError, match="data must be a dict"):
        pullback_data(G, [ids(0, 2)])
    with pytest.raises(SourceError, match="Concat needs at least one source"):
        Concat()


def test_a_pulled_back_program_trains_on_pulled_back_data_and_checkpoints():
    """The involution along its map: Δ of the CycleGAN functor on Δ of its data, one step
    through the loader, and the checkpoint's weights (keyed by D's arrows) load back."""
    torch.manual_seed(0)
    G = SchemaMap.read("examples/involution_cyclegan.map")
    P = Functor(G.target, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
    prog = compile_functor(P.pullback(G), critics={"X": nn.Linear(2, 1)}, backend="eager")
    data = pullback_data(G, {"Horse": ids(0, 16), "Zebra": ids(0, 16)})
    check_data(prog, data)
    before = P.modules["f"].weight.detach().clone()
    prog.step(next(Batches(data, 8)))
    assert not torch.equal(before, P.modules["f"].weight)
    saved = weights(prog)
    assert set(saved) >= {"arrow/s/steps.0.weight", "arrow/s/steps.1.bias", "critic/X/weight"}
    with torch.no_grad():
        P.modules["f"].weight.zero_()
    load_weights(prog, saved, "test")
    assert torch.equal(P.modules["f"].weight, saved["arrow/s/steps.0.weight"])
