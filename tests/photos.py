"""Test photos made from a real face photo that scikit-image ships (no download)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image

# Values planted in the EXIF of the test selfie; none may appear anywhere after a job.
EXIF_MAKE = "SecretCamMakerX9"
EXIF_ARTIST = "Private Person Exif"
UPLOAD_FILENAME = "holiday-selfie-of-jane-private.jpg"


@lru_cache(maxsize=1)
def face_image() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def face_jpeg(size: int = 512, quality: int = 92) -> bytes:
    """A JPEG of one clear face carrying identifying EXIF (camera make, artist, GPS)."""
    image = face_image().resize((size, size))
    exif = Image.Exif()
    exif[0x010F] = EXIF_MAKE  # Make
    exif[0x013B] = EXIF_ARTIST  # Artist
    gps = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def no_face_png() -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((400, 400)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims a huge canvas: must be refused without decoding."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
