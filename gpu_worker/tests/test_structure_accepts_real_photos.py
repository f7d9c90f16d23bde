"""What cameras, phones and common encoders write passes the structure check unchanged."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from gpu_worker.decode import decode_photo, inspect_upload
from gpu_worker.schemas import InputLimits
from gpu_worker.tests import corpus, crafted


def _jpeg(**params: object) -> bytes:
    return corpus.encode(corpus.portrait(), "JPEG", **params)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _jpeg(quality=90, progressive=True),
        lambda: _jpeg(quality=90, optimize=True),
        lambda: _jpeg(quality=90, subsampling=0),
        lambda: _jpeg(quality=90, restart_marker_blocks=4),
        lambda: corpus.encode(Image.fromarray(corpus.portrait()).convert("CMYK"), "JPEG", progressive=True),
        corpus.greyscale_jpeg,
        corpus.palette_png,
        corpus.png16_grey,
        lambda: corpus.encode(corpus.portrait(), "PNG", optimize=True),
        corpus.animated_png,
        corpus.webp,
        lambda: corpus.encode(corpus.portrait(), "WEBP", lossless=True),
        corpus.animated_webp,
        corpus.heic,
    ],
)
def test_it_accepts_and_decodes_honest_files(make, limits: InputLimits) -> None:  # type: ignore[no-untyped-def]
    data = make()
    info = inspect_upload(data, limits)
    assert (info.width, info.height) == (768, 768)
    pixels = decode_photo(data, limits)
    # Compared as luminance, so greyscale files are held to the same standard.
    decoded = np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float32)
    reference = np.asarray(Image.fromarray(corpus.portrait()).convert("L"), dtype=np.float32)
    assert np.abs(decoded - reference).mean() < 12


def test_bytes_after_the_end_of_a_jpeg_are_ignored(limits: InputLimits) -> None:
    # Phones append depth maps and previews (MPF) after the primary image.
    data = corpus.jpeg() + corpus.jpeg(256)
    assert inspect_upload(data, limits).format == "JPEG"


def test_a_heif_grid_like_a_phones_passes_the_structure_check(limits: InputLimits) -> None:
    # A 12 MP phone photo: 8x6 tiles of 512x512 cropped to 4032x3024.
    data = crafted.heif_grid(rows=6, columns=8, tile=(512, 512), size=(4032, 3024))
    info = inspect_upload(data, limits)
    assert (info.format, info.width, info.height) == ("HEIF", 4032, 3024)


def test_exif_orientation_gives_the_displayed_size(limits: InputLimits) -> None:
    info = inspect_upload(corpus.rotated_jpeg(6), limits)
    assert (info.width, info.height) == (576, 768)


def test_stray_bytes_between_jpeg_segments_are_tolerated_like_libjpeg(limits: InputLimits) -> None:
    data = corpus.jpeg()
    # Two zero bytes before the second marker segment, as some older cameras write.
    (length,) = struct.unpack_from(">H", data, 4)
    padded = data[: 4 + length] + b"\x00\x00" + data[4 + length :]
    assert inspect_upload(padded, limits).format == "JPEG"
    assert decode_photo(padded, limits).shape == (768, 768, 3)
