"""Structure checks: is this upload a well-formed file of an accepted format, within limits?

The web tier runs `check_structure` on every upload instead of decoding it, and the worker
runs it again before it decodes. It reads headers, markers, chunks and boxes only, so its cost
is one pass over the bytes (bounded by the byte cap) whatever the file claims: no pixel is
decoded, no entropy-coded or compressed image data is inflated. It refuses what would make a
decoder's cost unbounded or out of proportion (too many scans, chunks, frames, items or tiles;
declared sizes over the pixel cap; inflating metadata) and what is malformed.

A file can be structurally valid and still hold corrupt image data; the worker's decode (under
a CPU budget, see `gpu_worker.decode`) finds that, and the job fails with `corrupt_image`.
"""

from __future__ import annotations

import struct

from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits
from gpu_worker.structure.common import Structure, StructureError
from gpu_worker.structure.heif import check_heif
from gpu_worker.structure.jpeg import check_jpeg
from gpu_worker.structure.png import SIGNATURE as PNG_SIGNATURE
from gpu_worker.structure.png import check_png
from gpu_worker.structure.webp import check_webp

__all__ = ["Structure", "StructureError", "check_structure", "sniff_format"]

MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_CHECKS = {"JPEG": check_jpeg, "PNG": check_png, "WEBP": check_webp, "HEIF": check_heif}


def sniff_format(data: bytes) -> str | None:
    """Recognise a supported format from its magic bytes; the file name is never trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        # ISO base media: the major brand, or any compatible brand, says HEIF. AVIF is refused.
        box_size = struct.unpack(">I", data[:4])[0]
        brands = {data[8:12]}
        end = min(len(data), box_size if box_size >= 16 else 16)
        brands.update(data[offset : offset + 4] for offset in range(16, end - 3, 4))
        if brands & _HEIF_BRANDS and data[8:12] not in {b"avif", b"avis"}:
            return "HEIF"
    return None


def check_structure(data: bytes, limits: InputLimits) -> Structure:
    """Check an upload's size, format and structure without decoding it.

    Raises:
        InputError: file_too_large, unsupported_format, image_too_large, image_too_complex or
            corrupt_image (a StructureError, whose `detail` names the rule that failed).
    """
    if len(data) > limits.max_bytes:
        raise InputError(ErrorCode.FILE_TOO_LARGE)
    kind = sniff_format(data)
    if kind is None:
        raise InputError(ErrorCode.UNSUPPORTED_FORMAT)
    try:
        return _CHECKS[kind](data, limits)
    except (struct.error, IndexError, ValueError) as error:
        # A field read past the end of a short file: the walkers check lengths, this is the net.
        raise StructureError(ErrorCode.CORRUPT_IMAGE, f"truncated {kind} header") from error
