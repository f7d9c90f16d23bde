"""Synthetic matting cases with a known alpha, for the matting test and benchmark.

A subject (the astronaut's colours) with a known matte, hair strands drawn as thin soft curves
leaving her head, composited over busy backgrounds from scikit-image. The coarse mask the
matting starts from imitates the selfie segmenter: the true matte seen at 256 px, blurred and
upsampled, so it has the segmenter's "smooth blurred oval" edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from skimage import data as skdata

from gpu_worker.tests.corpus import astronaut

BACKGROUNDS = ("coffee", "chelsea", "rocket", "immunohistochemistry", "noise")
SIZE = 768


@dataclass(frozen=True)
class MattingCase:
    """A composite with its truth. Arrays are float32 0..1, SIZE x SIZE."""

    name: str
    image: np.ndarray = field(repr=False)  # HxWx3 composite
    alpha: np.ndarray = field(repr=False)  # HxW true matte
    foreground: np.ndarray = field(repr=False)  # HxWx3 true subject colour
    coarse: np.ndarray = field(repr=False)  # HxW segmenter-like mask
    face: np.ndarray = field(repr=False)  # HxW face mask (always opaque)


def _background(name: str) -> np.ndarray:
    if name == "noise":
        rng = np.random.default_rng(3)
        small = rng.uniform(0.0, 1.0, (48, 48, 3)).astype(np.float32)
        return cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    image = getattr(skdata, name)()
    return cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _true_alpha() -> np.ndarray:
    """The astronaut's silhouette (head, neck, shoulders) plus ~300 soft hair strands."""
    scale = SIZE / 512
    alpha = np.zeros((SIZE, SIZE), np.float32)
    cv2.ellipse(
        alpha,
        (round(190 * scale), round(150 * scale)),
        (round(80 * scale), round(100 * scale)),
        0,
        0,
        360,
        (1.0,),
        -1,
        cv2.LINE_AA,
    )
    cv2.rectangle(
        alpha, (round(150 * scale), round(220 * scale)), (round(235 * scale), round(300 * scale)), (1.0,), -1
    )
    body = (np.array([[20, 512], [40, 330], [110, 270], [290, 270], [360, 330], [400, 512]]) * scale).astype(
        np.int32
    )
    cv2.fillPoly(alpha, [body], (1.0,), cv2.LINE_AA)
    rng = np.random.default_rng(11)
    strands = np.zeros_like(alpha)
    centre = np.array([190 * scale, 150 * scale])
    for _ in range(300):
        angle = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)  # the upper half of the head
        start = centre + np.array([np.cos(angle) * 78 * scale, np.sin(angle) * 98 * scale])
        length = rng.uniform(10, 28) * scale
        bend = rng.uniform(-0.5, 0.5)
        points = []
        for t in np.linspace(0.0, 1.0, 8):
            direction = angle + bend * t
            points.append(start + t * length * np.array([np.cos(direction), np.sin(direction)]))
        opacity = float(rng.uniform(0.4, 1.0))
        cv2.polylines(strands, [np.array(points, np.int32)], False, (opacity,), 1, cv2.LINE_AA)
    return np.clip(np.maximum(alpha, strands), 0.0, 1.0)


def _coarse(alpha: np.ndarray) -> np.ndarray:
    small = cv2.resize(alpha, (256, 256), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.6)
    return np.clip(cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def case(background: str) -> MattingCase:
    """One synthetic case over the named background."""
    alpha = _true_alpha()
    foreground = (
        cv2.resize(astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    )
    back = _background(background)
    image = foreground * alpha[..., None] + back * (1.0 - alpha[..., None])
    face = np.zeros((SIZE, SIZE), np.float32)
    scale = SIZE / 512
    cv2.ellipse(
        face,
        (round(190 * scale), round(160 * scale)),
        (round(48 * scale), round(62 * scale)),
        0,
        0,
        360,
        (1.0,),
        -1,
    )
    return MattingCase(background, image.astype(np.float32), alpha, foreground, _coarse(alpha), face)


def transition(alpha: np.ndarray) -> np.ndarray:
    """Where the truth is neither 0 nor 1, widened by a few pixels: where matting matters."""
    band = ((alpha > 0.01) & (alpha < 0.99)).astype(np.uint8)
    return cv2.dilate(band, np.ones((7, 7), np.uint8)) > 0


def errors(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(SAD in thousands, MSE x 1000) over the whole image, as matting papers report them."""
    difference = estimate.astype(np.float64) - truth
    return float(np.abs(difference).sum() / 1000.0), float((difference**2).mean() * 1000.0)


def composite_error(
    colour: np.ndarray, alpha: np.ndarray, truth: MattingCase, backdrop: tuple[float, float, float]
) -> float:
    """Mean absolute error (8-bit levels) in the transition band of the subject composited
    onto a plain backdrop, against the true subject composited onto it: halos and rims."""
    paper = np.array(backdrop, np.float32)[None, None, :]
    made = colour * alpha[..., None] + paper * (1.0 - alpha[..., None])
    expected = truth.foreground * truth.alpha[..., None] + paper * (1.0 - truth.alpha[..., None])
    band = transition(truth.alpha)
    return float(np.abs(made - expected)[band].mean() * 255.0)
