"""A schema file as an experiment, below the command line: the sources its flags name,
the networks chosen from the spaces, the record a run folder keeps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from compiler import Euclid
from runtime.errors import SpecError
from runtime.experiments import SchemaRun, prepare
from runtime.experiments.data_specs import ImageOptions, absolute, open_source
from runtime.experiments.networks import ARROWS, arrow_network, critic_network, kind
from runtime.sources import Part, TensorSource, holdout, resample, tensor_file


@pytest.mark.parametrize("dom, cod, name", [
    (Euclid(3, 16, 16), Euclid(3, 16, 16), "residual generator (identity start)"),
    (Euclid(3, 15, 17), Euclid(3, 15, 17), "residual generator (identity start)"),
    (Euclid(1, 16, 16), Euclid(3, 24, 24), "resampling encoder-decoder"),
    (Euclid(16), Euclid(1, 32, 32), "upsampling generator"),
    (Euclid(16), Euclid(3, 5, 6), "upsampling generator"),
    (Euclid(1, 32, 32), Euclid(8), "convolutional encoder"),
    (Euclid(4), Euclid(4), "residual MLP (identity start)"),
    (Euclid(4), Euclid(2, 3), "residual MLP"),
    (Euclid(3, 16, 16), Euclid(3, 16, 16) * Euclid(1), "per-factor heads on a shared trunk"),
    (Euclid(3, 16, 16) * Euclid(1), Euclid(3, 16, 16), "per-factor heads on a shared trunk"),
    (Euclid(4) * Euclid(2), Euclid(3), "per-factor heads on a shared trunk"),
    (Euclid(3, 8, 8), Euclid(1, 16, 16) * Euclid(4), "per-factor heads on a shared trunk"),
])
def test_every_pair_of_spaces_gets_a_network_that_maps_one_to_the_other(dom, cod, name):
    net, chosen = arrow_network(dom, cod, width=8)
    assert chosen == name
    x = tuple(torch.randn(2, *s) for s in dom.shapes)
    y = net(*x)
    got = tuple(t.shape[1:] for t in (y if cod.is_product else (y,)))
    assert got == tuple(torch.Size(s) for s in cod.shapes)
    if "identity start" in name or (dom.is_product and dom.factors[0] == cod.factors[0]):
        out = y if not cod.is_product else y[0]
        assert torch.allclose(out, x[0].clamp(-1, 1) if len(dom.shapes[0]) == 3 else x[0])


def test_the_table_covers_every_pair_of_kinds_and_critics_score_each_sample():
    kinds = ("image", "vector", "product")
    assert {(d, c) for d, c, _ in ARROWS} == {(d, c) for d in kinds for c in kinds}
    assert kind(Euclid(3, 2, 2)) == "vector"  # too small to be read as an image
    for space in (Euclid(3, 32, 32), Euclid(1, 4, 4), Euclid(5), Euclid(2, 3)):
        critic, _ = critic_network(space, width=8)
        assert critic(torch.randn(3, *space.shapes[0])).shape[0] == 3


def test_built_in_sources_tensor_files_and_resampling(tmp_path):
    images = ImageOptions(size=(8, 8), channels=3)
    assert open_source("A", "circles:5", images).tensor.shape == (5, 3, 8, 8)
    assert open_source("A", "glyphs:DejaVuSans", images).tensor.shape[1:] == (3, 8, 8)
    assert open_source("A", "emoji:bases", ImageOptions(size=(8, 8))).tensor.shape[1:] == (
        3, 8, 8)
    np.save(tmp_path / "x.npy", np.full((4, 2, 5), 255, np.uint8))
    assert tensor_file(tmp_path / "x.npy").tensor.eq(1).all()  # 8-bit: scaled to [-1, 1]
    torch.save({"not": "a tensor"}, tmp_path / "d.pt")
    with pytest.raises(SpecError, match="holds a dict, not one tensor"):
        open_source("A", str(tmp_path / "d.pt"), ImageOptions())
    with pytest.raises(SpecError, match="circles:N takes a number"):
        open_source("A", "circles:many", ImageOptions())
    assert absolute("glyphs:X", "/r") == "glyphs:X" and absolute("d", "/r") == "/r/d"
    rgba = torch.ones(1, 4, 4, 4)
    rgba[:, 3] = -1  # fully transparent white: the background shows
    assert resample(rgba, channels=3, background=(0, 0, 255))[0, :, 0, 0].tolist() == [
        -1, -1, 1]


def test_a_held_out_split_is_seeded_and_pairs_sources_of_one_length():
    a, b = TensorSource(torch.arange(30.)), TensorSource(-torch.arange(30.))
    (train_a, test_a), (_, test_b) = holdout(a, 0.1), holdout(b, 0.1)
    assert isinstance(test_a, Part) and len(test_a) == 3 and len(train_a) == 27
    assert torch.equal(test_a.indices, test_b.indices)
    assert torch.equal(train_a.gather(torch.tensor([0, 1])), a.tensor[train_a.indices[:2]])
    assert not torch.equal(holdout(a, 0.1, seed=1)[1].indices, test_a.indices)


def folder(root, n=6):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(root / f"{i}.png")
    return root


def test_the_record_rebuilds_the_same_experiment(tmp_path):
    (tmp_path / "s.schema").write_text("schema S\nobject A, B\nf : A -> B\ng : B -> A\n"
                                       "f.g = id(A)\n")
    run = SchemaRun.from_flags(tmp_path / "s.schema", data=["A=a"], space=["B=4"],
                               root=folder(tmp_path / "a").parent, width=4)
    record = run.record()
    assert record["data"] == {"A": str(tmp_path / "a")} and record["space"] == {"B": [4]}
    again = SchemaRun.from_record(record)
    assert again == run
    exp, program = prepare(record, backend="eager")
    assert exp.compile["unobserved"] == ["B"] and program.plan.critics == []
    assert set(exp.evaluate(program)) == {"f.g = id(A)"}  # nothing held out for B
    with pytest.raises(SpecError, match="unknown entries"):
        SchemaRun.from_record({**record, "extra": 1})
