"""`python -m tests.sim --seeds 0-199` or `python -m tests.sim --seed N --verbose`; `--real` runs
the seeds through the second tier (the real discord.py client against the emulator).

The last line printed is
`sim: seeds=N days=… groups=… events=… deliveries=… faults=… kills=… violations=V`;
the exit status is 1 when V > 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from tests.sim.run import OPS_PER_GROUP_DAY, Options, Result, run_seed


def seed_range(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds += list(range(int(first), int(last or first) + 1))
    return seeds


def summary(results: list[Result], days: int, groups: int) -> str:
    return (
        f"sim: seeds={len(results)} days={days} groups={groups} "
        f"events={sum(r.events for r in results)} "
        f"deliveries={sum(r.deliveries for r in results)} "
        f"faults={sum(r.faults for r in results)} kills={sum(r.kills for r in results)} "
        f"violations={sum(len(r.violations) for r in results)}"
    )


def run_one(options: Options) -> tuple[Result, float]:
    started = time.perf_counter()
    result = asyncio.run(run_seed(options))
    return result, time.perf_counter() - started


def run_one_real(options: Options) -> tuple[Result, float]:
    """One seed through tier 2 (tests/sim/real.py)."""
    from tests.sim.real import run_real_seed

    started = time.perf_counter()
    result = asyncio.run(run_real_seed(options))
    return result, time.perf_counter() - started


def run_seeds(
    options: list[Options], jobs: int, *, real: bool = False
) -> Iterator[tuple[Result, float]]:
    """Each seed's result, in seed order (each seed is its own world, whatever runs beside)."""
    one = run_one_real if real else run_one
    if jobs <= 1:
        yield from map(one, options)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(one, options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--seeds", default=None, help="e.g. 0-199 or 3,7,10-12")
    which.add_argument("--seed", type=int, default=None, help="one seed (replay)")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument(
        "--ops",
        type=float,
        default=OPS_PER_GROUP_DAY,
        help=f"operations per group per day, on average (default {OPS_PER_GROUP_DAY:g})",
    )
    parser.add_argument("--verbose", action="store_true", help="print each seed's story")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run side by side")
    parser.add_argument(
        "--real",
        action="store_true",
        help="tier 2: the real discord.py client against the emulator (slower; small worlds)",
    )
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else seed_range(args.seeds or "0-19")
    results: list[Result] = []
    wanted = [
        Options(seed=seed, days=args.days, groups=args.groups, ops=args.ops) for seed in seeds
    ]
    for result, took in run_seeds(wanted, args.jobs, real=args.real):
        results.append(result)
        if args.verbose:
            for line in result.story:
                print(line)
        for violation in result.violations:
            print(f"seed {result.seed}: {violation}")
        print(f"{result.line()} ({took:.1f}s)", flush=True)
    print(summary(results, args.days, args.groups))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
