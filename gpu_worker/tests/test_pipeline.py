"""End to end through the studio backend: what a customer and an auditor would check."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from gpu_worker.analysis import analyse_face
from gpu_worker.backends.studio import StudioRenderer
from gpu_worker.decode import decode_photo
from gpu_worker.errors import ErrorCode, GenerationError, InputError
from gpu_worker.finish import DIGITAL_SOURCE_TYPE, read_xmp
from gpu_worker.pipeline import get_pipeline
from gpu_worker.schemas import Backend, GenerationRequest, GenerationResult, OutputFormat, Style
from gpu_worker.styles import get_style
from gpu_worker.tests import corpus


def _run(photo: bytes, style: Style | str = "corporate-grey", **changes: object) -> GenerationResult:
    style = get_style(style) if isinstance(style, str) else style
    request = GenerationRequest(job_id="job-1", photo=photo, style=style, **changes)  # type: ignore[arg-type]
    return get_pipeline(Backend.STUDIO)(request)


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def job() -> GenerationResult:
    return _run(corpus.jpeg(), seed=7)


def test_it_makes_four_distinct_portraits_of_the_right_size() -> None:
    # A 12-megapixel photo holds enough pixels for the style's full 1024x1280.
    job = _run(corpus.large_jpeg(4000, 3000), seed=7)
    assert len(job.portraits) == 4
    frames = [_pixels(p.full) for p in job.portraits]
    for portrait, frame in zip(job.portraits, frames, strict=True):
        assert (portrait.width, portrait.height) == (1024, 1280) and frame.shape == (1280, 1024, 3)
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(frames[i].astype(np.int16) - frames[j]).mean() > 2.0
    assert set(job.timings_seconds) >= {"decode", "analyse", "render", "finish", "total"}


def test_square_styles_give_square_portraits() -> None:
    style = dataclasses.replace(get_style("studio-white"), aspect="1:1", output_long_side=768)
    result = _run(corpus.jpeg(), style, variants=1)
    assert (result.portraits[0].width, result.portraits[0].height) == (768, 768)
    assert _pixels(result.portraits[0].full).shape == (768, 768, 3)


def test_the_face_is_kept_and_the_background_replaced(job, limits) -> None:  # type: ignore[no-untyped-def]
    photo = decode_photo(corpus.jpeg(), limits)
    analysis = analyse_face(photo)
    # Variant 0 is the head-and-shoulders crop at the size this photo supports.
    framing = StudioRenderer().render_layers(photo, analysis, get_style("corporate-grey"), 1, 7)[0].framing
    expected = framing.warp(photo).astype(np.float32)
    person = framing.warp(analysis.person_mask)
    output = _pixels(job.portraits[0].full).astype(np.float32)

    # Where the face lands follows from the framing transform; compare it pixel for pixel
    # (retouch and grade change tones a little, so correlation, not equality).
    face = framing.warp(analysis.face_mask) > 0.5
    face_in = expected.mean(axis=2)[face]
    face_out = output.mean(axis=2)[face]
    correlation = np.corrcoef(face_in, face_out)[0, 1]
    assert correlation > 0.95

    background = (person < 0.05) & (framing.valid_mask() > 0.99)
    assert background.mean() > 0.1
    assert np.abs(output - expected).mean(axis=2)[background].mean() > 25


def test_the_eyes_land_on_the_upper_third(job) -> None:  # type: ignore[no-untyped-def]
    frame = _pixels(job.portraits[1].full)
    analysis = analyse_face(frame)
    assert abs(analysis.eye_centre[1] / frame.shape[0] - 1 / 3) < 0.04
    assert abs(analysis.eye_centre[0] / frame.shape[1] - 1 / 2) < 0.08


def test_the_same_seed_gives_identical_bytes(job) -> None:  # type: ignore[no-untyped-def]
    again = _run(corpus.jpeg(), seed=7)
    assert [p.full for p in again.portraits] == [p.full for p in job.portraits]
    assert [p.preview for p in again.portraits] == [p.preview for p in job.portraits]
    other = _run(corpus.jpeg(), seed=8, variants=1)
    assert other.portraits[0].full != job.portraits[0].full


def test_input_metadata_never_reaches_an_output(job) -> None:  # type: ignore[no-untyped-def]
    assert corpus.SECRET_MAKE.encode() in corpus.jpeg()
    for portrait in job.portraits:
        for data in (portrait.full, portrait.preview):
            assert corpus.SECRET_MAKE.encode() not in data
            image = Image.open(io.BytesIO(data))
            assert len(image.getexif()) == 0 and "icc_profile" not in image.info


def test_every_output_is_marked_ai_generated(job) -> None:  # type: ignore[no-untyped-def]
    for portrait in job.portraits:
        for data in (portrait.full, portrait.preview):
            xmp = read_xmp(data)
            assert f'Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}"' in xmp
            assert "Corporate grey" in xmp


@pytest.mark.parametrize("output_format", [OutputFormat.PNG, OutputFormat.WEBP])
def test_png_and_webp_outputs_carry_the_mark_too(output_format) -> None:  # type: ignore[no-untyped-def]
    style = dataclasses.replace(get_style("warm-office"), output_format=output_format, output_long_side=512)
    portrait = _run(corpus.jpeg(), style, variants=1).portraits[0]
    assert Image.open(io.BytesIO(portrait.full)).format == output_format.value.upper()
    assert DIGITAL_SOURCE_TYPE in read_xmp(portrait.full)


def test_previews_are_smaller_and_watermarked(job) -> None:  # type: ignore[no-untyped-def]
    portrait = job.portraits[0]
    preview = _pixels(portrait.preview)
    assert max(preview.shape[:2]) == 640 and len(portrait.preview) < len(portrait.full)
    downscaled = np.asarray(
        Image.open(io.BytesIO(portrait.full))
        .convert("RGB")
        .resize((preview.shape[1], preview.shape[0]), Image.Resampling.BOX)
    )
    difference = np.abs(preview.astype(np.int16) - downscaled).max(axis=2)
    # The tiled text covers a good part of the frame, everywhere, not just a corner.
    assert (difference > 25).mean() > 0.03
    for half in (difference[: len(difference) // 2], difference[len(difference) // 2 :]):
        assert (half > 25).mean() > 0.02


def test_progress_is_reported_per_stage_and_ends_complete() -> None:
    reports: list[tuple[str, float]] = []
    _run(corpus.jpeg(), variants=2, progress=lambda stage, fraction: reports.append((stage, fraction)))
    stages = [stage for stage, _ in reports]
    assert stages.index("decode") < stages.index("analyse") < stages.index("render") < stages.index("finish")
    fractions = [fraction for _, fraction in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (corpus.no_face, ErrorCode.NO_FACE),
        (corpus.two_faces, ErrorCode.MULTIPLE_FACES),
        (corpus.truncated_jpeg, ErrorCode.CORRUPT_IMAGE),
        (corpus.not_an_image, ErrorCode.UNSUPPORTED_FORMAT),
    ],
)
def test_unusable_photos_fail_with_their_code(make, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        _run(make())
    assert caught.value.code == code


@pytest.mark.parametrize("make", [corpus.heic, corpus.cmyk_jpeg, corpus.png16_grey, corpus.animated_webp])
def test_awkward_but_valid_uploads_make_portraits(make) -> None:  # type: ignore[no-untyped-def]
    style = dataclasses.replace(get_style("studio-white"), output_long_side=512)
    result = _run(make(), style, variants=1)
    assert result.portraits[0].height == 512


@pytest.mark.parametrize(
    "changes", [{"variants": 0}, {"variants": 9}, {"seed": -1}, {"preview_long_side": 10}]
)
def test_bad_requests_are_refused_before_any_work(changes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GenerationError, match="invalid request"):
        _run(corpus.jpeg(), **changes)


def test_the_diffusion_backend_loads_lazily() -> None:
    # Without a model directory configured, the diffusion backend must fail with a clear
    # GenerationError rather than crash the worker or import torch at pipeline import time.
    with pytest.raises(GenerationError):
        get_pipeline(Backend.DIFFUSION)
