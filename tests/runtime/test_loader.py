import pickle

import pytest
import torch

from category import Schema
from runtime.errors import RunError, SourceError
from runtime.sources import Augment, GaussianPrior, TensorSource
from runtime.train.loader import Batches


def ids(n):
    """A source whose sample i is the number i (so batches show which indices came)."""
    return TensorSource(torch.arange(float(n)))


def test_every_batch_has_batch_size_and_an_epoch_is_a_permutation():
    b = Batches({"A": ids(10)}, 3)
    first = [next(b)["A"] for _ in range(3)]  # 9 of 10: the last one dropped
    assert all(x.shape == (3,) for x in first)
    seen = torch.cat(first).long()
    assert len(set(seen.tolist())) == 9
    assert b.epochs == {"A": 0}
    assert next(b)["A"].shape == (3,) and b.epochs == {"A": 1}
    assert [x.shape[0] for x in (next(b)["A"] for _ in range(20))] == [3] * 20


def test_drop_last_false_gives_the_remainder():
    b = Batches({"A": ids(10)}, 4, drop_last=False)
    assert [next(b)["A"].shape[0] for _ in range(6)] == [4, 4, 2, 4, 4, 2]


def test_objects_are_sampled_independently():
    b = Batches({"A": ids(50), "B": ids(50)}, 10, seed=3)
    a, c = zip(*((x["A"], x["B"]) for x in (next(b) for _ in range(5))))
    a, c = torch.cat(a), torch.cat(c)
    assert not torch.equal(a, c)  # not paired
    assert sorted(a.tolist()) == sorted(c.tolist()) == list(range(50))  # each a permutation
    # different epochs are different permutations, and another seed another order
    assert not torch.equal(torch.cat([next(b)["A"] for _ in range(5)]), a)
    other = Batches({"A": ids(50)}, 10, seed=4)
    assert not torch.equal(torch.cat([next(other)["A"] for _ in range(5)]), a)


def same(x, y):
    if isinstance(x, tuple):
        return all(torch.equal(u, v) for u, v in zip(x, y, strict=True))
    return torch.equal(x, y)


def make():
    return Batches({"A": ids(7), "B": TensorSource(torch.randn(13, 2, 4, 4,
                                                             generator=torch.Generator()
                                                             .manual_seed(0))),
                    "Z": GaussianPrior(5),
                    "P": (ids(9), GaussianPrior(2))},
                   batch_size=3, seed=11, augment={"B": Augment(shift=1, flip=True)})


def test_resume_is_exact():
    straight = [next(b) for b in [make()] for _ in range(10)]
    first = make()
    for _ in range(5):
        next(first)
    state = pickle.loads(pickle.dumps(first.state_dict()))
    assert len(pickle.dumps(state)) < 1000
    resumed = make()
    resumed.load_state_dict(state)
    rest = [next(resumed) for _ in range(5)]
    for want, got in zip(straight[5:], rest, strict=True):
        assert want.keys() == got.keys()
        assert all(same(want[k], got[k]) for k in want)
    # the batches really differ from batch to batch (so the equality above means something)
    assert not same(straight[5]["Z"], straight[6]["Z"])
    assert not same(straight[5]["B"], straight[6]["B"])


def test_resume_refuses_changed_data():
    state = Batches({"A": ids(7)}, 3).state_dict()
    with pytest.raises(RunError, match="A has 8 samples.*saved data position is for 7"):
        Batches({"A": ids(8)}, 3).load_state_dict(state)
    with pytest.raises(RunError, match="objects"):
        Batches({"B": ids(7)}, 3).load_state_dict(state)


def test_batch_larger_than_a_source_is_an_error():
    with pytest.raises(SourceError, match="object Small has 5 samples.*batch size 8"):
        Batches({"Big": ids(100), "Small": ids(5)}, 8)
    with pytest.raises(RunError, match="positive int"):
        Batches({"A": ids(5)}, 0)


def test_product_sources_give_paired_tuples():
    a = TensorSource(torch.arange(20.0))
    b = TensorSource(-torch.arange(20.0).view(20, 1).repeat(1, 3))
    batches = Batches({"BxC": (a, b), "Z": GaussianPrior((2, 2))}, 4)
    x = next(batches)
    u, v = x["BxC"]
    assert u.shape == (4,) and v.shape == (4, 3)
    assert torch.equal(v[:, 0], -u)  # factors at the same index
    assert x["Z"].shape == (4, 2, 2)
    with pytest.raises(SourceError, match="object BxC.*lengths must agree"):
        Batches({"BxC": (a, TensorSource(torch.zeros(3)))}, 2)


def test_object_keys_and_device():
    S = Schema("S")
    (H,) = S.objects("H")
    x = next(Batches({H: ids(4)}, 2, device="cpu"))
    assert list(x) == [H] and x[H].device.type == "cpu"


def test_augment_applies_to_images_only():
    img = TensorSource(torch.arange(4 * 64.0).view(4, 1, 8, 8))
    b = Batches({"I": img, "V": ids(4)}, 4, augment=Augment(shift=2))
    x = [next(b) for _ in range(3)]
    assert any(not torch.equal(torch.sort(y["I"].flatten())[0],
                               torch.sort(img.tensor.flatten())[0]) for y in x)
    assert all(sorted(y["V"].tolist()) == [0.0, 1.0, 2.0, 3.0] for y in x)
