"""Crafted files of every accepted format are refused by their structure, before any decoding,
at a cost that does not grow with what the file claims (scans, chunks, frames, items, sizes)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from gpu_worker.decode import decode_photo, inspect_upload
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits
from gpu_worker.structure import StructureError
from gpu_worker.tests import corpus, crafted

CRAFTED: list[tuple[str, Callable[[], bytes], ErrorCode]] = [
    # JPEG
    (
        "repeated refinement scans",
        lambda: crafted.repeated_refinement_scans(2500, 2000),
        ErrorCode.CORRUPT_IMAGE,
    ),
    (
        "65535x65535 frame",
        lambda: crafted.jpeg_with_frame(width=65535, height=65535),
        ErrorCode.IMAGE_TOO_LARGE,
    ),
    ("lossless frame", lambda: crafted.jpeg_with_frame(marker=0xC3), ErrorCode.UNSUPPORTED_FORMAT),
    ("12-bit frame", lambda: crafted.jpeg_with_frame(precision=12), ErrorCode.UNSUPPORTED_FORMAT),
    ("height set later by DNL", lambda: crafted.jpeg_with_frame(height=0), ErrorCode.UNSUPPORTED_FORMAT),
    ("5,000 comment segments", crafted.many_comment_segments, ErrorCode.IMAGE_TOO_COMPLEX),
    ("segment past the end", crafted.segment_past_the_end, ErrorCode.CORRUPT_IMAGE),
    ("scan before frame", crafted.scan_before_frame, ErrorCode.CORRUPT_IMAGE),
    ("two frames", crafted.two_frames, ErrorCode.CORRUPT_IMAGE),
    ("no end marker", crafted.without_end_marker, ErrorCode.CORRUPT_IMAGE),
    # PNG
    ("20,000 chunks", crafted.many_png_chunks, ErrorCode.IMAGE_TOO_COMPLEX),
    ("chunk past the end", crafted.png_chunk_past_the_end, ErrorCode.CORRUPT_IMAGE),
    ("bad CRC", crafted.png_bad_crc, ErrorCode.CORRUPT_IMAGE),
    ("iCCP inflating to 200 MB", crafted.iccp_bomb, ErrorCode.IMAGE_TOO_COMPLEX),
    ("40 zTXt of 1 MB each", crafted.many_ztxt, ErrorCode.IMAGE_TOO_COMPLEX),
    ("APNG of a million frames", crafted.apng_frames, ErrorCode.IMAGE_TOO_COMPLEX),
    ("APNG frame outside the canvas", crafted.apng_frame_outside_canvas, ErrorCode.CORRUPT_IMAGE),
    ("split image data", crafted.split_image_data, ErrorCode.CORRUPT_IMAGE),
    ("no IEND", crafted.png_truncated, ErrorCode.CORRUPT_IMAGE),
    ("100000x100000 header", corpus.png_bomb, ErrorCode.IMAGE_TOO_LARGE),
    # WebP
    ("RIFF size past the end", crafted.webp_riff_past_the_end, ErrorCode.CORRUPT_IMAGE),
    ("chunk size past the end", crafted.webp_chunk_past_the_end, ErrorCode.CORRUPT_IMAGE),
    ("300 animation frames", crafted.webp_many_frames, ErrorCode.IMAGE_TOO_COMPLEX),
    ("16384x16384 canvas", crafted.webp_huge_canvas, ErrorCode.IMAGE_TOO_LARGE),
    # HEIF
    ("box past the end", crafted.heif_box_past_the_end, ErrorCode.CORRUPT_IMAGE),
    ("60,000 items declared", lambda: crafted.heif_grid(declared_items=60_000), ErrorCode.IMAGE_TOO_COMPLEX),
    (
        "grid of 32x32 tiles",
        lambda: crafted.heif_grid(rows=32, columns=32, tile=(64, 64)),
        ErrorCode.IMAGE_TOO_COMPLEX,
    ),
    (
        "grid over the pixel cap",
        lambda: crafted.heif_grid(rows=16, columns=16, tile=(2048, 2048)),
        ErrorCode.IMAGE_TOO_LARGE,
    ),
    ("tile data past the end", lambda: crafted.heif_grid(extent_past_the_end=True), ErrorCode.CORRUPT_IMAGE),
    (
        "grid size not its declared size",
        lambda: crafted.heif_grid(size=(4000, 4000)),
        ErrorCode.CORRUPT_IMAGE,
    ),
]


@pytest.mark.parametrize(("name", "make", "code"), CRAFTED, ids=[name for name, _, _ in CRAFTED])
def test_it_refuses_a_crafted_file_in_both_tiers_without_decoding(
    name: str, make: Callable[[], bytes], code: ErrorCode, limits: InputLimits
) -> None:
    data = make()
    started = time.perf_counter()
    with pytest.raises(StructureError) as refused:
        inspect_upload(data, limits)
    elapsed = time.perf_counter() - started
    assert refused.value.code == code, refused.value.detail
    # One pass over at most a few hundred KB; the bound is loose for a shared machine.
    assert elapsed < 0.5
    # The worker runs the same check first: it never hands such a file to a decoder.
    with pytest.raises(StructureError) as in_worker:
        decode_photo(data, limits)
    assert in_worker.value.code == code


def test_the_reported_7000x7000_attack_is_refused_in_milliseconds(limits: InputLimits) -> None:
    data = crafted.repeated_refinement_scans(2500, 7000)
    started = time.perf_counter()
    with pytest.raises(StructureError) as refused:
        inspect_upload(data, limits)
    # It held a web thread for 50 s when it was decoded at 1/8 scale.
    assert time.perf_counter() - started < 0.2
    assert refused.value.code == ErrorCode.CORRUPT_IMAGE


def test_a_progressive_jpeg_over_the_scan_limit_is_too_complex() -> None:
    data = crafted.progressive_grey(256)  # libjpeg's default progression: 6 scans for grey
    with pytest.raises(InputError) as refused:
        inspect_upload(data, InputLimits(max_jpeg_scans=3))
    assert refused.value.code == ErrorCode.IMAGE_TOO_COMPLEX
    assert inspect_upload(data, InputLimits()).format == "JPEG"


def test_the_structure_check_costs_one_pass_over_a_large_file(limits: InputLimits) -> None:
    data = corpus.large_jpeg()  # 12 MP
    inspect_upload(data, limits)
    started = time.perf_counter()
    for _ in range(5):
        inspect_upload(data, limits)
    # A 1/8-scale decode of this file took ~24 ms; a marker walk takes a fraction of it.
    assert (time.perf_counter() - started) / 5 < 0.02
