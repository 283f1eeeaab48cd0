"""``varimac system``: training time and full-system energy per scheme (ZigZag, memory model)."""

import glob
import json
import os
import tempfile

from flows.cli import UsageError
from flows.reports.results import write_json, write_text

HELP = ("training time and full-system energy (MACs, on-chip buffer, DRAM) per precision scheme "
        "from training logs, by ZigZag with a memory hierarchy")


def add_arguments(parser):
    parser.add_argument("--runs", nargs="+", required=True, metavar="DIR",
                        help="training run directories (each with log.json); globs allowed")
    parser.add_argument("--memory", nargs="+", default=["edge", "large"], metavar="CONFIG",
                        help="memory configurations: JSON files or built-in names "
                             "(default: edge large, flows/system/memory/*.json)")
    parser.add_argument("--power", default="results/power/power.json", metavar="FILE",
                        help="power.json of varimac power (energy per MAC per width)")
    parser.add_argument("--bench", default="results/bench/rtl.json", metavar="FILE",
                        help="RTL-simulated cycles for the cross-check "
                             "(DIR/rtl/bench.json of varimac bench --only rtl --out DIR)")
    parser.add_argument("--cache", default="build/system/prices.json", metavar="FILE",
                        help="cache of ZigZag results (a rerun prices only what is new)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")


def _read_json(path, flag):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{flag} {path}: cannot read it ({exc})") from None


def _inputs(args):
    from flows.system import clock, memconfig, model as system, workload
    from flows.reports.report import ReportError
    from hw.config import AccelConfig
    import importlib.util
    if importlib.util.find_spec("zigzag") is None:
        raise UsageError("ZigZag is not installed: pip install zigzag-dse six "
                         "(or pip install -e .)")
    paths = sorted({p for pattern in args.runs for p in (glob.glob(pattern) or [pattern])})
    power = _read_json(args.power, "--power")
    try:
        memories = [memconfig.load(m) for m in args.memory]
        runs = system.load_runs(paths)
        config = AccelConfig.from_params(power["config"])
        system.mac_prices(power)
        period, source = clock.period_ns(power)
    except (memconfig.MemoryConfigError, workload.WorkloadError, ReportError) as exc:
        raise UsageError(str(exc)) from None
    except (KeyError, TypeError) as exc:
        raise UsageError(f"--power {args.power}: no array config ({exc})") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    names = [m.name for m in memories]
    if len(set(names)) != len(names):
        raise UsageError(f"--memory: two configurations named alike ({', '.join(names)})")
    bench = _read_json(args.bench, "--bench") if os.path.exists(args.bench) else None
    return paths, power, memories, runs, config, period, source, bench


def run(args):
    from tqdm import tqdm
    from flows.system import model as system, report as system_report, rtl as system_rtl

    paths, power, memories, runs, config, period, source, bench = _inputs(args)
    prices = system.PriceBook(args.cache)
    wanted = sorted({g for s, c in runs for g in system.to_price(c, s["batch"])})
    todo = [(g, m) for m in memories for g in prices.missing(wanted, config, m, period)]
    for g, m in tqdm(todo, desc="ZigZag: pricing GEMMs", unit="GEMM", disable=not todo):
        prices.price(g, config, m, period)
    data = {"command": "varimac system " + " ".join(
                ["--runs", *args.runs, "--memory", *args.memory, "--out", args.out]),
            "array": f"{config.rows}x{config.cols}", "period_ns": period, "clock_source": source,
            "power": args.power, "bench": args.bench if bench else None,
            "zigzag_version": _version(),
            "memories": [dict(name=m.name, description=m.description, file=_file(spec),
                              buffer_bytes=m.buffer_bytes,
                              buffer_bits_per_cycle=m.buffer_bits_per_cycle,
                              buffer_pj_per_bit=m.buffer_pj_per_bit,
                              dram_bytes_per_second=m.dram_bytes_per_second,
                              dram_bits_per_cycle=m.dram_bits_per_cycle(period),
                              dram_pj_per_bit=m.dram_pj_per_bit, sources=m.sources)
                         for m, spec in zip(memories, args.memory)],
            "schemes": system.build(runs, memories, power, config=config, period_ns=period,
                                    prices=prices),
            "roofline": system.roofline(runs, memories, config=config, period_ns=period,
                                        prices=prices),
            "rtl_check": system_rtl.cross_check(bench, power, prices, period_ns=period)}
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        for path in system_report.plot(data, tmp):
            os.replace(path, os.path.join(args.out, os.path.basename(path)))
    table = system_report.markdown(data)
    write_text(os.path.join(args.out, "system.md"), table)
    write_text(os.path.join(args.out, "summary.md"), system_report.summary(data))
    write_json(os.path.join(args.out, "system.json"), data)
    print(table)
    print(f"wrote {args.out}/system.json, system.md, summary.md, system.png, roofline.png")
    return 0


def _version():
    from importlib.metadata import version
    return version("zigzag-dse")


def _file(spec):
    from flows.system.memconfig import BUILTIN
    return f"flows/system/memory/{spec}.json" if spec in BUILTIN else spec
