"""The training simulator: a fixed-point CNN trained on CIFAR-10 with every GEMM a job of the
contract (docs/training.md). ``trainer`` runs it (``TrainConfig``, ``Trainer``); the engines,
the network, the optimizer, the precision policies, the data and the checkpoints each have their
module. Nothing here is imported by ``golden`` itself: the contract stands alone."""
