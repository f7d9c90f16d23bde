"""WebP structure: RIFF chunk sizes, the bitstream headers' dimensions, animation frames.

Every chunk size is checked against its container before it is followed; the dimensions come
from the VP8/VP8L frame headers (simple files) or the VP8X canvas, and each animation frame
must lie inside the canvas. At most `limits.max_frames` frames and `limits.max_png_chunks`
chunks (the same chunk budget as PNG).
"""

from __future__ import annotations

import struct

from gpu_worker.schemas import InputLimits
from gpu_worker.structure.common import Structure, check_pixels, corrupt, exif_orientation, too_complex

_VP8X_ANIMATION = 0x02
_IMAGE_CHUNKS = {b"VP8 ", b"VP8L"}


def check_webp(data: bytes, limits: InputLimits) -> Structure:
    """Walk a WebP's RIFF chunks; return its size, or raise a StructureError."""
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size < 4 or riff_size + 8 > len(data):
        raise corrupt(f"RIFF declares {riff_size} bytes, the file holds {len(data) - 8}")
    chunks = list(_chunks(data, 12, 8 + riff_size, limits))
    if not chunks:
        raise corrupt("no chunks")
    first, first_start, first_end = chunks[0]
    if first in _IMAGE_CHUNKS:
        width, height = _bitstream_size(first, memoryview(data)[first_start:first_end])
        check_pixels(width, height, limits)
        return Structure("WEBP", width, height)
    if first != b"VP8X" or first_end - first_start < 10:
        raise corrupt(f"unexpected first chunk {first!r}")
    flags = data[first_start]
    width = 1 + int.from_bytes(data[first_start + 4 : first_start + 7], "little")
    height = 1 + int.from_bytes(data[first_start + 7 : first_start + 10], "little")
    check_pixels(width, height, limits)
    frames = 0
    images = 0
    orientation = 1
    for kind, start, end in chunks[1:]:
        body = memoryview(data)[start:end]
        if kind == b"ANMF":
            frames += 1
            if frames > limits.max_frames:
                raise too_complex(f"more than {limits.max_frames} animation frames")
            _check_frame(data, start, end, width, height, limits)
        elif kind in _IMAGE_CHUNKS:
            images += 1
            if (images > 1) or _bitstream_size(kind, body) != (width, height):
                raise corrupt("the image does not match the canvas")
        elif kind == b"EXIF" and orientation == 1:
            orientation = exif_orientation(body)
    if flags & _VP8X_ANIMATION:
        if frames == 0 or images:
            raise corrupt("an animation without frames, or with a still image beside them")
    elif images != 1 or frames:
        raise corrupt("an extended WebP needs exactly one image")
    return Structure("WEBP", width, height, orientation, frames=max(1, frames))


def _chunks(data: bytes, start: int, end: int, limits: InputLimits) -> list[tuple[bytes, int, int]]:
    """(fourcc, body start, body end) for each chunk in data[start:end], sizes checked."""
    found = []
    position = start
    while position < end:
        if position + 8 > end:
            raise corrupt("a chunk header runs past its container")
        kind, size = struct.unpack_from("<4sI", data, position)
        body_end = position + 8 + size
        if body_end > end:
            raise corrupt(f"chunk {kind!r} declares {size} bytes past its container")
        found.append((kind, position + 8, body_end))
        if len(found) > limits.max_png_chunks:
            raise too_complex(f"more than {limits.max_png_chunks} chunks")
        position = body_end + (size & 1)  # chunks are padded to an even size
    return found


def _check_frame(data: bytes, start: int, end: int, width: int, height: int, limits: InputLimits) -> None:
    if end - start < 16:
        raise corrupt("short animation frame")
    x = 2 * int.from_bytes(data[start : start + 3], "little")
    y = 2 * int.from_bytes(data[start + 3 : start + 6], "little")
    frame_width = 1 + int.from_bytes(data[start + 6 : start + 9], "little")
    frame_height = 1 + int.from_bytes(data[start + 9 : start + 12], "little")
    if x + frame_width > width or y + frame_height > height:
        raise corrupt("an animation frame outside the canvas")
    images = [
        (kind, body_start, body_end)
        for kind, body_start, body_end in _chunks(data, start + 16, end, limits)
        if kind in _IMAGE_CHUNKS
    ]
    if len(images) != 1:
        raise corrupt("an animation frame needs exactly one image")
    kind, body_start, body_end = images[0]
    if _bitstream_size(kind, memoryview(data)[body_start:body_end]) != (frame_width, frame_height):
        raise corrupt("an animation frame's image does not match its size")


def _bitstream_size(kind: bytes, body: memoryview) -> tuple[int, int]:
    if kind == b"VP8 ":
        if len(body) < 10 or bytes(body[3:6]) != b"\x9d\x01\x2a" or body[0] & 1:
            raise corrupt("not a VP8 key frame")
        width, height = struct.unpack_from("<HH", body, 6)
        return width & 0x3FFF, height & 0x3FFF
    if len(body) < 5 or body[0] != 0x2F:
        raise corrupt("not a VP8L bitstream")
    (bits,) = struct.unpack_from("<I", body, 1)
    if bits >> 29:
        raise corrupt("unknown VP8L version")
    return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
