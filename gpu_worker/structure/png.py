"""PNG (and APNG) structure: chunk lengths and CRCs, header, chunk order, frames and metadata.

One pass over the chunks; CRCs are computed in C. Compressed metadata (iCCP, zTXt, compressed
iTXt) is inflated here only up to what the decoder would accept in all, so a small chunk that
inflates to gigabytes costs at most `limits.max_metadata_bytes` of work. The image data
itself (IDAT) is not inflated: its decoded size is bounded by the declared dimensions, and the
worker decodes it under a CPU budget.
"""

from __future__ import annotations

import struct
import zlib

from gpu_worker.schemas import InputLimits
from gpu_worker.structure.common import Structure, check_pixels, corrupt, exif_orientation, too_complex

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BIT_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_COMPRESSED_METADATA = {b"iCCP", b"zTXt", b"iTXt"}


def check_png(data: bytes, limits: InputLimits) -> Structure:
    """Walk a PNG's chunks; return its size, or raise a StructureError."""
    length = len(data)
    view = memoryview(data)
    position = len(SIGNATURE)
    chunks = 0
    width = height = 0
    idat_state = "before"  # before -> inside -> after
    metadata_budget = limits.max_metadata_bytes
    frames_declared = 0
    frame_controls = 0
    orientation = 1
    has_palette = False
    colour_type = -1
    while True:
        if position + 12 > length:
            raise corrupt("the file ends before IEND (truncated)")
        chunk_length, kind = struct.unpack_from(">I4s", data, position)
        body_start = position + 8
        end = body_start + chunk_length
        if chunk_length > 0x7FFFFFFF or end + 4 > length:
            raise corrupt(f"chunk {kind!r} declares {chunk_length} bytes past the end of the file")
        if not kind.isalpha() or not kind.isascii():
            raise corrupt(f"invalid chunk type {kind!r}")
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(view[position + 4 : end]) != crc:
            raise corrupt(f"chunk {kind!r} fails its CRC")
        chunks += 1
        if chunks > limits.max_png_chunks:
            raise too_complex(f"more than {limits.max_png_chunks} chunks")
        body = view[body_start:end]
        if chunks == 1:
            if kind != b"IHDR" or chunk_length != 13:
                raise corrupt("the first chunk is not a 13-byte IHDR")
            width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(
                ">IIBBBBB", body
            )
            if width > 0x7FFFFFFF or height > 0x7FFFFFFF:
                raise corrupt("dimensions over 2^31")
            check_pixels(width, height, limits)
            if depth not in _BIT_DEPTHS.get(colour_type, set()) or compression or filtering or interlace > 1:
                raise corrupt("invalid bit depth, colour type, compression, filter or interlace")
        elif kind == b"IHDR":
            raise corrupt("a second IHDR")
        elif kind == b"IDAT":
            if idat_state == "after":
                raise corrupt("IDAT chunks are not consecutive")
            if idat_state == "before" and chunk_length >= 2 and not _is_zlib_header(body[0], body[1]):
                raise corrupt("the image data is not a zlib stream")
            idat_state = "inside"
        elif kind == b"IEND":
            break
        else:
            if idat_state == "inside":
                idat_state = "after"
            if kind == b"PLTE":
                if idat_state != "before" or chunk_length % 3 or not 3 <= chunk_length <= 768:
                    raise corrupt("invalid or misplaced palette")
                has_palette = True
            elif kind == b"acTL":
                if chunk_length != 8 or idat_state != "before" or frames_declared:
                    raise corrupt("invalid or misplaced animation control")
                frames_declared = struct.unpack(">I", body[:4])[0]
                if frames_declared == 0:
                    raise corrupt("an animation of zero frames")
                if frames_declared > limits.max_frames:
                    raise too_complex(f"an animation of {frames_declared} frames")
            elif kind == b"fcTL":
                frame_controls += 1
                _check_frame_control(body, width, height, frame_controls, frames_declared)
            elif kind in _COMPRESSED_METADATA:
                metadata_budget = _inflate_metadata(kind, body, metadata_budget)
            elif kind == b"eXIf" and orientation == 1:
                orientation = exif_orientation(body)
        position = end + 4
    if idat_state == "before":
        raise corrupt("no image data (IDAT)")
    if colour_type == 3 and not has_palette:
        raise corrupt("a palette image without a palette")
    return Structure("PNG", width, height, orientation, frames=max(1, frames_declared))


def _check_frame_control(body: memoryview, width: int, height: int, seen: int, declared: int) -> None:
    if len(body) != 26 or declared == 0:
        raise corrupt("a frame control outside an animation")
    if seen > declared:
        raise corrupt("more frames than the animation declares")
    _, frame_width, frame_height, x, y = struct.unpack_from(">IIIII", body)
    if frame_width == 0 or frame_height == 0 or x + frame_width > width or y + frame_height > height:
        raise corrupt("an animation frame outside the canvas")


def _inflate_metadata(kind: bytes, body: memoryview, budget: int) -> int:
    """Inflate a compressed metadata chunk up to the remaining budget; return what is left."""
    raw = bytes(body)
    name_end = raw.find(b"\x00")
    if name_end < 1 or name_end > 79:
        raise corrupt(f"{kind!r} without a valid keyword")
    if kind == b"iTXt":
        if len(raw) < name_end + 3:
            raise corrupt("short iTXt")
        if raw[name_end + 1] == 0:
            return budget  # stored uncompressed: its cost is its size, already bounded
        # keyword \0 flag method language \0 translated keyword \0 text
        language_end = raw.find(b"\x00", name_end + 3)
        translated_end = raw.find(b"\x00", language_end + 1) if language_end >= 0 else -1
        if translated_end < 0:
            raise corrupt("malformed iTXt")
        compressed = raw[translated_end + 1 :]
    else:
        compressed = raw[name_end + 2 :]
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(compressed, max(0, budget) + 1)
    except zlib.error as error:
        raise corrupt(f"{kind!r} holds a broken zlib stream") from error
    budget -= len(inflated)
    if budget < 0:
        raise too_complex("compressed metadata inflates past the limit")
    return budget


def _is_zlib_header(cmf: int, flags: int) -> bool:
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf * 256 + flags) % 31 == 0
