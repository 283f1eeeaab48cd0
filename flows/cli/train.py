"""``varimac train``: train the CIFAR-10 network under a precision policy (docs/training.md)."""

import os
import shlex
import sys

from flows.cli import UsageError

HELP = "train the 6-layer CIFAR-10 network in fixed point under a precision policy"


def add_arguments(parser):
    from golden.train.config import default
    from golden.train.registry import POLICIES
    parser.add_argument("--policy", required=True, metavar="P",
                        help=f"precision policy: {', '.join(POLICIES)}; a fixed-point one "
                             f"+headroom takes the exponent rule with headroom")
    parser.add_argument("--epochs", required=True, metavar="E", help="epochs to train (>= 1)")
    parser.add_argument("--backend", default=default("backend"), choices=("numpy", "torch"),
                        help=f"golden backend (default: {default('backend')}; both give the same "
                             f"bits)")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cpu or cuda (default: cuda when present)")
    parser.add_argument("--train-subset", default=None, metavar="N",
                        help="train on the first N training images (default: all 50,000)")
    parser.add_argument("--test-subset", default=None, metavar="N",
                        help="evaluate on the first N test images (default: all 10,000)")
    parser.add_argument("--batch", default=str(default("batch")), metavar="B",
                        help=f"batch size (default: {default('batch')})")
    parser.add_argument("--seed", default=str(default("seed")), metavar="S",
                        help=f"run seed (default: {default('seed')})")
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="CIFAR-10 archive or folder, or `demo` for the subset shipped in "
                             "golden/train/datasets/ (default: $VARIMAC_DATA, then what varimac data "
                             "download fetched, then ../shared/datasets)")
    parser.add_argument("--download", action="store_true",
                        help="without --data, download the official archive first when no "
                             "CIFAR-10 is found (varimac data download)")
    parser.add_argument("--checkpoint-every", default=str(default("checkpoint_every")),
                        metavar="STEPS",
                        help=f"steps between checkpoints (default: {default('checkpoint_every')})")
    parser.add_argument("--trace", action="store_true",
                        help="save sampled GEMM jobs as contract job files in OUT/traces/w<W>/")
    parser.add_argument("--threads", default=None, metavar="T",
                        help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder: log.json, checkpoint.npz (resumed when present)")


def _int(value, flag, lo=1):
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{flag} must be an integer >= {lo}, not {value!r}") from None
    if n < lo:
        raise UsageError(f"{flag} must be an integer >= {lo}, not {value!r}")
    return n


def run(args):
    from golden.train.registry import check_name
    try:
        check_name(args.policy)
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    epochs = _int(args.epochs, "--epochs")
    train_subset = _int(args.train_subset, "--train-subset")
    test_subset = _int(args.test_subset, "--test-subset")
    batch = _int(args.batch, "--batch")
    seed = _int(args.seed, "--seed", lo=0)
    if seed >= 1 << 32:
        raise UsageError(f"--seed must be below 2**32, not {args.seed!r}")
    every = _int(args.checkpoint_every, "--checkpoint-every")
    threads = _int(args.threads, "--threads")
    from golden.files import check_output_dir
    try:
        check_output_dir(args.out, inputs=[args.data] if args.data not in (None, "demo") else [])
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None

    from golden.train.data import DataError, load_cifar10
    from golden.train.config import TrainConfig
    from golden.train.trainer import Trainer
    if threads:
        import torch
        torch.set_num_threads(threads)
    try:
        data = _load_data(args, load_cifar10, DataError)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    command = "varimac train " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == "train" else ""
    created = not os.path.exists(args.out)
    try:
        config = TrainConfig(policy=args.policy, epochs=epochs, out=args.out,
                             backend=args.backend, device=args.device, seed=seed, batch=batch,
                             train_subset=train_subset, test_subset=test_subset, data=args.data,
                             trace=args.trace, checkpoint_every=every, command=command)
        trainer = Trainer(config, data=data, progress=not args.no_progress)
        log = trainer.run()
    except ValueError as exc:
        if created and os.path.isdir(args.out) and not os.listdir(args.out):
            os.rmdir(args.out)
        raise UsageError(str(exc)) from None
    last = log["epochs"][-1]
    best = max(e["test_accuracy"] for e in log["epochs"])
    print(f"{args.policy}: {len(log['epochs'])} epochs, final test accuracy "
          f"{last['test_accuracy']:.4f}, best {best:.4f} -> {os.path.join(args.out, 'log.json')}")
    return 0


def _load_data(args, load_cifar10, DataError):
    if args.download and args.data is None:
        from golden.train.data import find
        from golden.train.download import download
        try:
            find()
        except DataError:
            download(progress=not args.no_progress)
    elif args.download:
        raise UsageError("--download fetches into the default data folder; drop --data")
    if args.data == "demo":
        from golden.train.demo_data import DEMO_TEST, DEMO_TRAIN, load_demo
        for flag, n, most in (("--train-subset", args.train_subset, DEMO_TRAIN),
                              ("--test-subset", args.test_subset, DEMO_TEST)):
            if n is None or int(n) > most:
                raise UsageError(f"{flag} must be at most {most} with --data demo (the shipped "
                                 f"subset), not {n or 'all'}")
        return load_demo()
    return load_cifar10(args.data)
