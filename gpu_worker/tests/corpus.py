"""Test photos built in code from a real photograph shipped with scikit-image.

`skimage.data.astronaut()` (a public-domain NASA portrait, 512x512, one clear face) is the
base; every awkward case an upload can be is derived from it here, in memory.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
import pillow_heif
from PIL import Image
from skimage import data as skdata

pillow_heif.register_heif_opener()

EXIF_MAKE = 0x010F
EXIF_ORIENTATION = 0x0112
GPS_IFD = 0x8825
SECRET_MAKE = "SecretCam-7731"


@cache
def astronaut() -> np.ndarray:
    """512x512 RGB uint8, one clear face."""
    return np.ascontiguousarray(skdata.astronaut())


def portrait(size: int = 768) -> np.ndarray:
    """The astronaut upscaled: a realistic phone-crop size, still fast to analyse."""
    return np.asarray(Image.fromarray(astronaut()).resize((size, size), Image.Resampling.BICUBIC))


def encode(pixels: np.ndarray | Image.Image, fmt: str, **params: object) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def exif_with_secrets(orientation: int = 1) -> Image.Exif:
    """EXIF with a camera make and a GPS position, which must never reach an output."""
    exif = Image.Exif()
    exif[EXIF_MAKE] = SECRET_MAKE
    exif[EXIF_ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.0)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 40.0)
    return exif


def jpeg(size: int = 768) -> bytes:
    """A plain JPEG that also carries identifying EXIF (make, GPS)."""
    return encode(portrait(size), "JPEG", quality=92, exif=exif_with_secrets())


def rotated_jpeg(orientation: int) -> bytes:
    """Pixels stored rotated, with the EXIF orientation that puts them upright again.

    Orientation 6 means "rotate 90 degrees clockwise to display", so the stored pixels are the
    upright photo rotated counter-clockwise; 8 is the reverse.
    """
    upright = Image.fromarray(portrait()[:, 96:672])  # 576x768: upright is taller than wide
    stored = upright.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    return encode(stored, "JPEG", quality=92, exif=exif_with_secrets(orientation))


def cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(portrait()).convert("CMYK"), "JPEG", quality=92)


def png16_grey() -> bytes:
    grey = np.asarray(Image.fromarray(portrait()).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(grey.astype(np.uint16)), "PNG")


def palette_png() -> bytes:
    return encode(Image.fromarray(portrait()).quantize(colors=256), "PNG")


def rgba_png() -> bytes:
    """Transparent border around the photo: alpha must be composited, not dropped to black."""
    rgba = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


def greyscale_jpeg() -> bytes:
    return encode(Image.fromarray(portrait()).convert("L"), "JPEG", quality=92)


def bilevel_png() -> bytes:
    return encode(Image.fromarray(portrait()).convert("1"), "PNG")


def heic() -> bytes:
    return encode(portrait(), "HEIF", quality=90)


def webp() -> bytes:
    return encode(portrait(), "WEBP", quality=90)


def animated_webp() -> bytes:
    """First frame is the portrait; the second is a blank frame that must not be used."""
    first = Image.fromarray(portrait())
    second = Image.new("RGB", first.size, (0, 200, 0))
    return encode(first, "WEBP", save_all=True, append_images=[second], duration=100, quality=90)


def animated_png() -> bytes:
    first = Image.fromarray(portrait())
    second = Image.new("RGB", first.size, (0, 200, 0))
    return encode(first, "PNG", save_all=True, append_images=[second], duration=100)


def animated_gif() -> bytes:
    first = Image.fromarray(portrait())
    second = Image.new("RGB", first.size, (0, 200, 0))
    return encode(first, "GIF", save_all=True, append_images=[second], duration=100)


def large_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A 12-megapixel photo: the astronaut scaled up on a wide, softly lit wall."""
    return encode(large_pixels(width, height), "JPEG", quality=90)


def large_pixels(width: int = 4000, height: int = 3000) -> np.ndarray:
    side = int(height * 0.8)
    face = Image.fromarray(astronaut()).resize((side, side), Image.Resampling.BICUBIC)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    wall = (np.array([150, 140, 128], np.float32) * (0.8 + 0.2 * x) * (0.9 + 0.1 * y)).astype(np.uint8)
    canvas = Image.fromarray(np.broadcast_to(wall, (height, width, 3)).copy())
    canvas.paste(face, ((width - side) // 2, height - side))
    return np.asarray(canvas)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels; decoding it would need ~30 GB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def tiny_face() -> bytes:
    """A small, low-resolution photo: the face is found but only ~60 px tall.

    (The full-range detector sees the whole frame at 192 px, so faces under ~6% of the frame
    width are not found at all and give no_face; this case stays above that.)
    """
    canvas = Image.new("RGB", (1000, 750), (120, 130, 140))
    canvas.paste(Image.fromarray(astronaut()).resize((320, 320), Image.Resampling.BICUBIC), (340, 430))
    return encode(canvas, "JPEG", quality=92)


def two_faces() -> bytes:
    pair = np.concatenate([astronaut(), astronaut()[:, ::-1]], axis=1)
    return encode(pair, "JPEG", quality=92)


def no_face() -> bytes:
    return encode(np.ascontiguousarray(skdata.coffee()), "JPEG", quality=92)


def truncated_jpeg() -> bytes:
    full = jpeg()
    return full[: len(full) // 2]


def not_an_image() -> bytes:
    """What a renamed text file named portrait.jpg contains."""
    return b"%PDF-1.7\n" + b"this is not a photo\n" * 200
