"""About 100 fixed-point steps on 1,000 real CIFAR-10 images lower the loss and beat chance.

The images are the first 1,000 training and 500 test images of CIFAR-10, from the subset shipped
in golden/train/datasets/ (the same images a full copy gives: a run takes the first N of each split).
"""

import pytest

from golden.train.demo_data import load_demo
from golden.train.config import TrainConfig
from golden.train.trainer import Trainer


@pytest.mark.slow
def test_fixed_8_learns_on_1000_images(tmp_path):
    data = load_demo()
    # The numpy backend: the same bits as torch (tests/train/test_bits.py), and on a small shared CPU
    # it needs a third of torch's wall time (no OpenMP threads spinning against other jobs).
    cfg = TrainConfig(policy="fixed-8", epochs=4, out=str(tmp_path / "run"), backend="numpy",
                      batch=40, train_subset=1000, test_subset=500)
    log = Trainer(cfg, data=data, progress=False).run()
    epochs = log["epochs"]
    assert sum(e["steps"] for e in epochs) == 100
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] - 0.1
    # Chance is 0.10; on 500 test images its standard deviation is 0.013.
    assert epochs[-1]["test_accuracy"] >= 0.16
