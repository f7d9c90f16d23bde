"""Uploads are checked by content and bounded before decoding; every colour mode becomes RGB."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gpu_worker.decode import decode_photo, inspect_upload
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits
from gpu_worker.tests import corpus


def _code(function, data: bytes, limits: InputLimits) -> ErrorCode:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        function(data, limits)
    return caught.value.code


@pytest.mark.parametrize(
    ("make", "expected_format"),
    [
        (corpus.jpeg, "JPEG"),
        (corpus.cmyk_jpeg, "JPEG"),
        (corpus.png16_grey, "PNG"),
        (corpus.palette_png, "PNG"),
        (corpus.rgba_png, "PNG"),
        (corpus.heic, "HEIF"),
        (corpus.webp, "WEBP"),
        (corpus.animated_webp, "WEBP"),
    ],
)
def test_it_accepts_supported_formats_by_content(make, expected_format, limits) -> None:  # type: ignore[no-untyped-def]
    info = inspect_upload(make(), limits)
    assert info.format == expected_format
    assert (info.width, info.height) == (768, 768)
    pixels = decode_photo(make(), limits)
    assert pixels.shape == (768, 768, 3) and pixels.dtype == np.uint8


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (corpus.not_an_image, ErrorCode.UNSUPPORTED_FORMAT),
        (corpus.animated_gif, ErrorCode.UNSUPPORTED_FORMAT),
        (corpus.truncated_jpeg, ErrorCode.CORRUPT_IMAGE),
        (corpus.png_bomb, ErrorCode.IMAGE_TOO_LARGE),
        (lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 64, ErrorCode.CORRUPT_IMAGE),
    ],
)
def test_it_refuses_bad_uploads_with_the_right_code(make, code, limits) -> None:  # type: ignore[no-untyped-def]
    assert _code(inspect_upload, make(), limits) == code
    assert _code(decode_photo, make(), limits) == code


def test_it_refuses_files_over_the_byte_cap() -> None:
    data = corpus.jpeg()
    small_cap = InputLimits(max_bytes=len(data) - 1)
    assert _code(inspect_upload, data, small_cap) == ErrorCode.FILE_TOO_LARGE
    assert _code(decode_photo, data, small_cap) == ErrorCode.FILE_TOO_LARGE


def test_it_refuses_a_bomb_from_the_header_without_decoding(limits) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    assert _code(decode_photo, corpus.png_bomb(), limits) == ErrorCode.IMAGE_TOO_LARGE
    # Decoding 10^10 pixels would take minutes and ~30 GB; refusing takes microseconds.
    assert time.perf_counter() - started < 0.5


def test_the_pixel_cap_is_the_callers(limits) -> None:  # type: ignore[no-untyped-def]
    data = corpus.jpeg()
    assert _code(inspect_upload, data, InputLimits(max_pixels=768 * 768 - 1)) == ErrorCode.IMAGE_TOO_LARGE


@pytest.mark.parametrize("orientation", [6, 8])
def test_it_applies_exif_orientation(orientation, limits) -> None:  # type: ignore[no-untyped-def]
    data = corpus.rotated_jpeg(orientation)
    info = inspect_upload(data, limits)
    assert (info.width, info.height) == (576, 768)
    pixels = decode_photo(data, limits)
    assert pixels.shape == (768, 576, 3)
    upright = corpus.portrait()[:, 96:672].astype(np.float32)
    assert np.abs(pixels.astype(np.float32) - upright).mean() < 8


@pytest.mark.parametrize("make", [corpus.png16_grey, corpus.greyscale_jpeg, corpus.bilevel_png])
def test_greyscale_and_16_bit_become_neutral_rgb(make, limits) -> None:  # type: ignore[no-untyped-def]
    pixels = decode_photo(make(), limits).astype(np.int16)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() <= 1
    # 16-bit values were scaled into 0..255, not clipped to white.
    assert 60 < pixels.mean() < 200


def test_cmyk_and_palette_keep_their_colours(limits) -> None:  # type: ignore[no-untyped-def]
    reference = corpus.portrait().astype(np.float32)
    for data in (corpus.cmyk_jpeg(), corpus.palette_png(), corpus.heic(), corpus.webp()):
        pixels = decode_photo(data, limits).astype(np.float32)
        assert np.abs(pixels - reference).mean() < 12


def test_transparency_is_composited_on_white(limits) -> None:  # type: ignore[no-untyped-def]
    pixels = decode_photo(corpus.rgba_png(), limits)
    assert pixels[:40].min() >= 250
    assert np.abs(pixels[40:].astype(np.float32) - corpus.portrait()[40:]).mean() < 2


@pytest.mark.parametrize("make", [corpus.animated_webp, corpus.animated_png])
def test_animations_give_their_first_frame(make, limits) -> None:  # type: ignore[no-untyped-def]
    pixels = decode_photo(make(), limits).astype(np.float32)
    assert np.abs(pixels - corpus.portrait()).mean() < 12


def test_large_photos_are_downscaled_early_and_inspected_fast(limits) -> None:  # type: ignore[no-untyped-def]
    data = corpus.large_jpeg()
    inspect_upload(data, limits)  # warm caches
    started = time.perf_counter()
    info = inspect_upload(data, limits)
    elapsed = time.perf_counter() - started
    assert (info.width, info.height) == (4000, 3000)
    # The target is well under 50 ms; the bound is loose for shared CI machines.
    assert elapsed < 0.1
    pixels = decode_photo(data, limits)
    assert 1500 <= max(pixels.shape[:2]) <= 2048
