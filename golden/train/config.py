"""``TrainConfig``: one training run's settings, frozen and checked when made; its defaults are
the only ones (``varimac train`` shows and uses them)."""

from dataclasses import dataclass

from ..backends import BACKENDS
from ..formats import check_int
from .registry import check_name


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    policy: str
    epochs: int
    out: str
    backend: str = "torch"       # both backends give the same bits
    device: str = None           # torch device; None: cuda when present
    seed: int = 0
    batch: int = 128
    train_subset: int = None     # None: every image
    test_subset: int = None
    data: str = None             # None: golden.train.data's search order
    trace: bool = False
    trace_cap: int = 64          # job files kept per width
    checkpoint_every: int = 100  # steps
    command: str = ""

    def __post_init__(self):
        check_name(self.policy)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        check_int(self.epochs, name="epochs", lo=1, hi=10_000)
        check_int(self.seed, name="seed", lo=0, hi=(1 << 32) - 1)
        check_int(self.batch, name="batch", lo=1, hi=4096)
        check_int(self.checkpoint_every, name="checkpoint_every", lo=1)
        check_int(self.trace_cap, name="trace_cap", lo=1)
        for name in ("train_subset", "test_subset"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name=name, lo=1)


def default(name):
    """The default of field ``name``."""
    return TrainConfig.__dataclass_fields__[name].default
