"""What every format's structure check shares: the result, the refusal, and EXIF orientation."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits

SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112
_TIFF_SHORT = 3


@dataclass(frozen=True)
class Structure:
    """What a structure check learned from a file's headers, without decoding a pixel.

    `width` and `height` are as stored; `orientation` is the EXIF orientation (1..8) that a
    viewer applies (HEIF rotations are folded into it as 1 or 6/8/3).
    """

    format: str  # "JPEG", "PNG", "WEBP", "HEIF"
    width: int
    height: int
    orientation: int = 1
    frames: int = 1

    @property
    def displayed_size(self) -> tuple[int, int]:
        if self.orientation in SWAPPING_ORIENTATIONS:
            return self.height, self.width
        return self.width, self.height


class StructureError(InputError):
    """A refusal from a structure check. `detail` says which rule failed, for logs and tests;
    the person sees only the plain message of the error code."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        self.detail = detail
        super().__init__(code)


def corrupt(detail: str) -> StructureError:
    return StructureError(ErrorCode.CORRUPT_IMAGE, detail)


def too_complex(detail: str) -> StructureError:
    return StructureError(ErrorCode.IMAGE_TOO_COMPLEX, detail)


def unsupported(detail: str) -> StructureError:
    return StructureError(ErrorCode.UNSUPPORTED_FORMAT, detail)


def check_pixels(width: int, height: int, limits: InputLimits) -> None:
    """Declared dimensions: positive, and within the pixel cap."""
    if width <= 0 or height <= 0:
        raise corrupt(f"declared size {width}x{height}")
    if width * height > limits.max_pixels:
        raise StructureError(ErrorCode.IMAGE_TOO_LARGE, f"declared size {width}x{height}")


def exif_orientation(tiff: bytes | memoryview) -> int:
    """The orientation tag of IFD0 in a TIFF-structured EXIF block; 1 when absent or broken.

    Reads at most IFD0's entry table, so its cost does not depend on what the block claims.
    A broken EXIF block never refuses a photo: the metadata is discarded anyway.
    """
    tiff = bytes(tiff[:65536])
    if tiff.startswith(b"Exif\x00\x00"):
        tiff = tiff[6:]
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(min(count, (len(tiff) - ifd - 2) // 12)):
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, ifd + 2 + 12 * index)
        if tag == _EXIF_ORIENTATION and kind == _TIFF_SHORT and number == 1:
            (value,) = struct.unpack_from(order + "H", tiff, ifd + 2 + 12 * index + 8)
            return value if 1 <= value <= 8 else 1
    return 1
