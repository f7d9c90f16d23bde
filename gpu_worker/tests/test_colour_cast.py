"""The subject's colour cast (a blue shade, tungsten orange) is neutralised before the style's
own grade, so the same person looks the same in a style whatever light the photo was taken in."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.analysis import analyse_face
from gpu_worker.backends.studio import StudioRenderer
from gpu_worker.styles import get_style
from gpu_worker.tests import everyday


def _face_colour(pixels: np.ndarray, style: str) -> np.ndarray:
    analysis = analyse_face(pixels)
    layer = StudioRenderer().render_layers(pixels, analysis, get_style(style), 1, 4)[0]
    face = layer.framing.warp(analysis.face_mask) > 0.5
    return layer.frame[face].astype(np.float32).mean(axis=0)


@pytest.mark.parametrize("cast", [(0.85, 0.97, 1.22), (1.2, 1.0, 0.8)])
def test_a_colour_cast_is_neutralised(cast: tuple[float, float, float]) -> None:
    photo = everyday.photo("busy_room").pixels
    tinted = np.clip(photo.astype(np.float32) * np.array(cast, np.float32), 0, 255).astype(np.uint8)
    neutral, shifted = _face_colour(photo, "corporate-grey"), _face_colour(tinted, "corporate-grey")

    def chroma(colour: np.ndarray) -> np.ndarray:
        return colour / colour.mean()

    input_shift = np.abs(chroma(photo.reshape(-1, 3).mean(0)) - chroma(tinted.reshape(-1, 3).mean(0))).max()
    output_shift = np.abs(chroma(neutral) - chroma(shifted)).max()
    assert output_shift < 0.5 * input_shift


def test_the_style_grade_still_shows() -> None:
    photo = everyday.photo("busy_room").pixels
    warm, cool = _face_colour(photo, "warm-office"), _face_colour(photo, "creative-dark")
    assert warm[0] / warm[2] > cool[0] / cool[2]
