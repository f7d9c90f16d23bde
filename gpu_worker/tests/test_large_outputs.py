"""2048 px portraits where the photo holds the pixels, smaller ones (never enlarged) where not."""

from __future__ import annotations

import dataclasses
import io

from PIL import Image

from gpu_worker.pipeline import get_pipeline
from gpu_worker.schemas import Backend, GenerationRequest
from gpu_worker.styles import get_style
from gpu_worker.tests import corpus

LARGE = dataclasses.replace(get_style("corporate-grey"), output_long_side=2048)


def _one(photo: bytes) -> tuple[int, int]:
    result = get_pipeline(Backend.STUDIO)(
        GenerationRequest(job_id="large", photo=photo, style=LARGE, variants=1, seed=2)
    )
    portrait = result.portraits[0]
    assert Image.open(io.BytesIO(portrait.full)).size == (portrait.width, portrait.height)
    return portrait.width, portrait.height


def test_a_twelve_megapixel_photo_gives_2048_pixel_portraits() -> None:
    assert _one(corpus.large_jpeg(4000, 3000)) == (1638, 2048)


def test_a_smaller_photo_gives_what_it_holds() -> None:
    # The same scene at 2000 x 1500: its head-and-shoulders crop has about half the rows.
    width, height = _one(corpus.large_jpeg(2000, 1500))
    # (No frame enlarges past MAX_UPSCALE: checked on every output in test_everyday_photos.)
    assert 1280 <= height < 2048 and width == round(height * 4 / 5)
