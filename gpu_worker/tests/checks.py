"""Automatic checks a portrait must pass, whatever photo it came from.

Used by the tests over the everyday-photo corpus; each returns a number or a mask so a
failing test can say how badly and where.
"""

from __future__ import annotations

import cv2
import numpy as np

# A streak: along one direction the picture is flat (copied pixels, grain aside) over a long
# run, while across it there is real detail. Window and thresholds in 8-bit levels.
STREAK_WINDOW = 31
STREAK_FLAT_STD = 2.5
STREAK_DETAIL_STD = 8.0
# A single edge (a shoulder's outline) is flat along itself and detailed across only within
# half a window of it; copied pixels fill a whole area. Only areas this wide count.
STREAK_MIN_WIDTH = 48


def streak_fraction(frame: np.ndarray) -> float:
    """Share of the frame covered by stretched or replicated pixels (rows or columns copied
    across an edge): flat along one axis over STREAK_WINDOW pixels, detailed across it."""
    grey = frame.astype(np.float32).mean(axis=2)

    def local_std(kernel: tuple[int, int]) -> np.ndarray:
        mean = cv2.blur(grey, kernel)
        square = cv2.blur(grey * grey, kernel)
        return np.sqrt(np.maximum(square - mean * mean, 0.0))

    along_x, along_y = local_std((STREAK_WINDOW, 1)), local_std((1, STREAK_WINDOW))
    horizontal = ((along_x < STREAK_FLAT_STD) & (along_y > STREAK_DETAIL_STD)).astype(np.uint8)
    vertical = ((along_y < STREAK_FLAT_STD) & (along_x > STREAK_DETAIL_STD)).astype(np.uint8)
    area = np.ones((STREAK_MIN_WIDTH, STREAK_MIN_WIDTH), np.uint8)
    opened_h: np.ndarray = cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, area)
    opened_v: np.ndarray = cv2.morphologyEx(vertical, cv2.MORPH_OPEN, area)
    return float(np.maximum(opened_h, opened_v).mean())


def subject_regions(
    alpha: np.ndarray, threshold: float = 0.0, min_area_fraction: float = 0.0005
) -> tuple[int, np.ndarray]:
    """Number of separate regions where the subject shows (alpha > threshold) bigger than
    `min_area_fraction` of the frame, and the label image."""
    visible = (alpha > threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(visible, connectivity=8)
    big = [
        index for index in range(1, count) if stats[index, cv2.CC_STAT_AREA] >= min_area_fraction * alpha.size
    ]
    return len(big), labels


def mean_pairwise_difference(frames: list[np.ndarray]) -> float:
    """Mean absolute difference (0..255) over all pairs of equally sized frames."""
    values = [
        float(np.abs(frames[i].astype(np.int16) - frames[j]).mean())
        for i in range(len(frames))
        for j in range(i + 1, len(frames))
    ]
    return float(np.mean(values))
