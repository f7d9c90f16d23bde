"""Benchmark the studio backend: one 4-portrait job from a 12-megapixel JPEG, on this CPU.

Run:  python bench/bench_studio.py --runs 10 [--long-side 2048]
Prints a markdown table (median and p95 seconds per job and per stage, peak RSS) and the
job's CPU seconds (all threads). On a shared machine the wall clock measures the neighbours
too; CPU seconds do not, and on an idle 2-core machine a job's wall time is at most its CPU
time, so they bound what an idle worker would take. Thread settings are left at their
defaults, as in a worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_worker.pipeline import get_pipeline
from gpu_worker.schemas import Backend, GenerationRequest
from gpu_worker.styles import get_style
from gpu_worker.tests import corpus


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--style", default="corporate-grey")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--long-side", type=int, default=0, help="output long side (default: the style's)")
    args = parser.parse_args()

    photo = corpus.large_jpeg(4000, 3000)
    pipeline = get_pipeline(Backend.STUDIO)
    style = get_style(args.style)
    if args.long_side:
        style = dataclasses.replace(style, output_long_side=args.long_side)
    request = GenerationRequest(job_id="bench", photo=photo, style=style, variants=args.variants, seed=1)
    pipeline(request)  # warm-up: first-call allocations, caches
    load_before = " ".join(f"{value:.1f}" for value in os.getloadavg())

    totals: list[float] = []
    cpu_totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(args.runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = pipeline(request)
        totals.append(time.perf_counter() - started)
        cpu_totals.append(time.process_time() - cpu_started)
        for stage, seconds in result.timings_seconds.items():
            if stage != "total":
                stages.setdefault(stage, []).append(seconds)

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"studio backend, {args.variants} portraits from a 4000x3000 JPEG ({len(photo) / 1e6:.1f} MB), "
        f"style {args.style}, {args.runs} runs after 1 warm-up; "
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print("| stage | median s | p95 s |")
    print("|---|---|---|")
    for stage, values in stages.items():
        print(f"| {stage} | {statistics.median(values):.3f} | {_p95(values):.3f} |")
    print(f"| **job (wall)** | **{statistics.median(totals):.3f}** | **{_p95(totals):.3f}** |")
    cpu_median, cpu_p95 = statistics.median(cpu_totals), _p95(cpu_totals)
    print(f"| **job (CPU, all threads)** | **{cpu_median:.3f}** | **{cpu_p95:.3f}** |")
    size = result.portraits[0]
    print()
    print(f"output {size.width}x{size.height}; load average before the runs: {load_before}")
    print()
    print(f"peak RSS: {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
