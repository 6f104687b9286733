"""Two folders of images, CycleGAN between them: a template for your own data.

Edit the two folders (and the image size) below, then ``cdl train examples/folders_experiment.py``.
Without Python, ``cdl train examples/cyclegan.schema --data Horse=data/trainA --data
Zebra=data/trainB --size 64`` trains the same schema with networks chosen for you.
Any layout of png/jpg files works (CycleGAN's ``trainA/`` and ``trainB/``, a CelebA
copy split by attribute); unreadable files are skipped with a warning.
"""

from __future__ import annotations

from pathlib import Path

from category import Schema
from compiler import Euclid, Functor
from runtime import Experiment, Options
from runtime.experiments.nets import IdentityStartGenerator, patch_critic
from runtime.sources import ImageFolder

FOLDER_A = Path("data/trainA")
FOLDER_B = Path("data/trainB")
SIZE = 64
CHANNELS = 3


def build(options: Options) -> Experiment:
    S = Schema.parse("schema Folders\nobject A, B\nf : A -> B\ng : B -> A\n"
                     "f.g = id(A)\ng.f = id(B)\n")
    space = Euclid(CHANNELS, SIZE, SIZE)
    F = Functor(S, ob={"A": space, "B": space},
                ar={"f": IdentityStartGenerator(CHANNELS, width=32, blocks=4),
                    "g": IdentityStartGenerator(CHANNELS, width=32, blocks=4)})
    return Experiment(
        functor=F,
        critics={"A": patch_critic(CHANNELS, 64), "B": patch_critic(CHANNELS, 64)},
        data={"A": ImageFolder(FOLDER_A, size=SIZE, channels=CHANNELS),
              "B": ImageFolder(FOLDER_B, size=SIZE, channels=CHANNELS)},
        compile={"adversarial": "lsgan", "equation_weight": 10.0, "fake_pool": 50},
        train={"steps": 20_000, "batch_size": 8, "decay_from": 0.5})
