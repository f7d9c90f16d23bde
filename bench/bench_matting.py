"""Matting benchmark: alpha error against a known matte, before and after trimap-band matting.

Run:  python bench/bench_matting.py
Cases are `gpu_worker.tests.matting_cases` (a subject with a known alpha and hair strands over
five busy backgrounds, the coarse mask imitating the 256 px selfie segmenter). "Before" is the
previous release's matte refinement and decontamination, reproduced below verbatim; "after" is
`gpu_worker.backends.studio.estimate_matte`. Prints a markdown table: SAD (thousands) and
MSE (x1000) of alpha over the whole image, and the composite error in the edge band on a dark
and a white backdrop (8-bit levels: halos and rims), and the time per 768 px case.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_worker.backends.studio import estimate_matte
from gpu_worker.tests import matting_cases

DARK, WHITE = (0.16, 0.17, 0.19), (1.0, 1.0, 1.0)


def previous_refine_matte(colour: np.ndarray, person: np.ndarray, face: np.ndarray) -> np.ndarray:
    """The matte of the previous release (gpu_worker/backends/studio.py at a20bccf)."""
    height, width = person.shape
    half = (width // 2, height // 2)
    guide = cv2.resize(colour, half, interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(person, half, interpolation=cv2.INTER_AREA)
    refined = cv2.ximgproc.guidedFilter(guide, coarse, max(4, width // 100), 2e-4)
    refined = cv2.resize(refined, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = np.clip((refined - 0.4) / 0.45, 0.0, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.8, width / 1024))
    face_core = np.clip((face - 0.5) * 2.0, 0.0, 1.0)
    return np.maximum(alpha, face_core)


def previous_decontaminate(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The decontamination of the previous release (same file and revision)."""
    height, width = alpha.shape
    half = (width // 2, height // 2)
    small_alpha = cv2.resize(alpha, half, interpolation=cv2.INTER_AREA)
    small_colour = cv2.resize(colour, half, interpolation=cv2.INTER_AREA)
    sigma = max(2.0, width / 256)
    weighted = cv2.GaussianBlur(small_colour * small_alpha[..., None], (0, 0), sigma)
    weight = cv2.GaussianBlur(small_alpha, (0, 0), sigma)
    estimate = weighted / np.maximum(weight, 1e-3)[..., None]
    estimate = cv2.resize(estimate, (width, height), interpolation=cv2.INTER_LINEAR)
    trust = np.clip((alpha - 0.6) / 0.35, 0.0, 1.0)[..., None]
    return colour * trust + estimate * (1.0 - trust)


def main() -> None:
    print("| background | method | SAD (k) | MSE (x1e3) | edge error on dark | edge error on white | ms |")
    print("|---|---|---|---|---|---|---|")
    totals: dict[str, list[float]] = {"before": [0, 0, 0, 0, 0], "after": [0, 0, 0, 0, 0]}
    for background in matting_cases.BACKGROUNDS:
        case = matting_cases.case(background)
        started = time.perf_counter()
        old_alpha = previous_refine_matte(case.image, case.coarse, case.face)
        old_colour = previous_decontaminate(case.image, old_alpha)
        old_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        new_alpha, new_colour = estimate_matte(case.image.copy(), case.coarse, case.face)
        new_ms = (time.perf_counter() - started) * 1000
        for method, alpha, colour, ms in (
            ("before", old_alpha, old_colour, old_ms),
            ("after", new_alpha, new_colour, new_ms),
        ):
            sad, mse = matting_cases.errors(alpha, case.alpha)
            dark = matting_cases.composite_error(colour, alpha, case, DARK)
            white = matting_cases.composite_error(colour, alpha, case, WHITE)
            row = [sad, mse, dark, white, ms]
            totals[method] = [a + b for a, b in zip(totals[method], row, strict=True)]
            print(
                f"| {background} | {method} | {sad:.1f} | {mse:.2f} | {dark:.1f} | {white:.1f} | {ms:.0f} |"
            )
    count = len(matting_cases.BACKGROUNDS)
    for method, values in totals.items():
        sad, mse, dark, white, ms = (value / count for value in values)
        cells = f"**{sad:.1f}** | **{mse:.2f}** | **{dark:.1f}** | **{white:.1f}** | {ms:.0f}"
        print(f"| **mean** | **{method}** | {cells} |")


if __name__ == "__main__":
    main()
