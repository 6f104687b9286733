"""The image-folder template trains on folders of PNG files (a few eager steps)."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from runtime import Options, Trainer
from runtime.experiments import load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "folders_experiment.py"


def folder(root: Path, colour: tuple[int, int, int], n: int) -> Path:
    rng = np.random.default_rng(sum(colour))
    for i in range(n):
        sub = root / f"part{i % 2}"  # nested folders are fine
        sub.mkdir(parents=True, exist_ok=True)
        pixels = (np.array(colour) + rng.integers(-20, 20, (24, 24, 3))).clip(0, 255)
        Image.fromarray(pixels.astype(np.uint8)).save(sub / f"{i}.png")
    return root


def test_folders_template_trains_on_image_folders(tmp_path):
    module, _ = load(str(EXAMPLE))
    module.FOLDER_A = folder(tmp_path / "trainA", (200, 60, 60), 10)
    module.FOLDER_B = folder(tmp_path / "trainB", (60, 60, 200), 12)
    module.SIZE = 16
    exp = module.build(Options(torch.device("cpu")))
    assert len(exp.data["A"]) == 10 and len(exp.data["B"]) == 12
    from compiler import compile_functor

    prog = compile_functor(exp.functor, exp.critics, **{**exp.compile, "backend": "eager"})
    t = Trainer(prog, exp.data, tmp_path / "run", steps=3, batch_size=4, progress=False)
    t.fit()
    assert (tmp_path / "run" / "samples" / "step-00000003" / "A.png").is_file()
    assert prog.fake_pool == 50
