"""Reading uploaded photos safely: sniff, bound, decode, normalise.

Two entry points share the same checks, in the same order, so the web tier and the worker
can never disagree about a photo:

- `inspect_upload` runs on the web tier for every upload. It must be fast: the format is
  sniffed from the first bytes, the pixel count comes from the header before any decoding, and
  JPEGs are test-decoded at 1/8 scale (`Image.draft`), PNGs checked with `verify()`.
- `decode_photo` runs in the worker and returns RGB uint8 pixels, oriented, colour-managed to
  sRGB and downscaled to a working resolution early (the DCT decoder does most of it for free).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits, UploadInfo

pillow_heif.register_heif_opener()

# Pillow's own decompression-bomb guard stays on as a backstop for any code path that opens
# images without these checks; the explicit check against InputLimits.max_pixels below is
# the one that decides. The warning it emits between 1x and 2x the limit is redundant with
# that check, so it is silenced (it would otherwise be logged for every large upload).
Image.MAX_IMAGE_PIXELS = InputLimits().max_pixels
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Long side of the pixels the worker analyses and renders from. Outputs are ~1280 px and the
# head-and-shoulders crop is a part of the photo, so 2048 keeps full detail at a fraction of
# the cost of 12 MP.
WORKING_LONG_SIDE = 2048
# JPEG draft decoding may land anywhere between this fraction of the working size and it.
DRAFT_TOLERANCE = 0.75

# Background for transparent inputs: white is what the person saw in their viewer.
ALPHA_BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class _Kind:
    format: str
    mime_type: str


_JPEG = _Kind("JPEG", "image/jpeg")
_PNG = _Kind("PNG", "image/png")
_WEBP = _Kind("WEBP", "image/webp")
_HEIF = _Kind("HEIF", "image/heic")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Pillow's format names for what each sniffed kind may be parsed as.
_PIL_FORMATS = {"JPEG": {"JPEG"}, "PNG": {"PNG"}, "WEBP": {"WEBP"}, "HEIF": {"HEIF"}}

_EXIF_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


def sniff_format(data: bytes) -> _Kind | None:
    """Recognise a supported format from its magic bytes; the file name is never trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP
    if len(data) >= 12 and data[4:8] == b"ftyp":
        # ISO base media: the major brand, or any compatible brand, says HEIF. AVIF is refused.
        box_size = struct.unpack(">I", data[:4])[0]
        brands = {data[8:12]}
        end = min(len(data), box_size if box_size >= 16 else 16)
        brands.update(data[offset : offset + 4] for offset in range(16, end - 3, 4))
        if brands & _HEIF_BRANDS and data[8:12] not in {b"avif", b"avis"}:
            return _HEIF
    return None


def _open(data: bytes, limits: InputLimits) -> tuple[Image.Image, _Kind]:
    """Check bytes, format and header pixel count; return the lazily-opened image."""
    # Pillow's truncated-image switch is process-global and other libraries flip it on when
    # imported (weasyprint does). A truncated upload must stay `corrupt_image`, whoever else
    # runs in this process.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if len(data) > limits.max_bytes:
        raise InputError(ErrorCode.FILE_TOO_LARGE)
    kind = sniff_format(data)
    if kind is None:
        raise InputError(ErrorCode.UNSUPPORTED_FORMAT)
    try:
        # Image.open parses the header only; no pixel data is decompressed yet.
        image = Image.open(io.BytesIO(data), formats=sorted(_PIL_FORMATS[kind.format]))
    except Image.DecompressionBombError as error:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise InputError(ErrorCode.CORRUPT_IMAGE) from error
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InputError(ErrorCode.CORRUPT_IMAGE)
    if width * height > limits.max_pixels:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE)
    return image, kind


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
        return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1
    except Exception:
        # A broken EXIF block should not make a good photo unusable; it is discarded anyway.
        return 1


def inspect_upload(data: bytes, limits: InputLimits) -> UploadInfo:
    """Validate an upload cheaply and describe it (web tier, every upload).

    Width and height are as displayed, i.e. after EXIF orientation.

    Raises:
        InputError: file_too_large, unsupported_format, image_too_large or corrupt_image.
    """
    image, kind = _open(data, limits)
    width, height = image.size
    try:
        if kind is _JPEG:
            # Decode at 1/8 scale: every entropy-coded byte is still read (so truncation and
            # garbage are caught) but the inverse DCT and colour conversion are nearly free.
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
        elif kind is _PNG:
            # verify() walks the chunks and checks CRCs without inflating the pixels.
            image.verify()
        else:
            image.load()
    except Image.DecompressionBombError as error:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise InputError(ErrorCode.CORRUPT_IMAGE) from error
    if _orientation(image) in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return UploadInfo(format=kind.format, width=width, height=height, mime_type=kind.mime_type)


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile when there is one (CMYK print files, Display P3
    phone photos); otherwise Pillow's plain conversion."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in {"RGB", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB")


def _flatten(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB: 16-bit and float scaled, alpha composited, palettes expanded."""
    mode = image.mode
    if mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        values = np.asarray(image, dtype=np.float32)
        # 16-bit files use 0..65535; an "I" image that happens to hold 8-bit values stays as is.
        peak = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if mode == "F" and values.max(initial=0) <= 1.0:
            peak = 1.0
        grey = np.clip(values * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in {"P", "PA"}:
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode in {"RGBA", "LA", "La", "RGBa"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in {"RGB", "CMYK"}:
        return _to_srgb(image)
    return image.convert("RGB")  # L, 1, YCbCr, LAB, HSV


def decode_photo(data: bytes, limits: InputLimits, max_long_side: int = WORKING_LONG_SIDE) -> np.ndarray:
    """Decode a photo for the pipeline: HxWx3 RGB uint8, oriented, sRGB, long side <= max.

    The same checks as `inspect_upload` run first, so a bomb is refused before any decoding.
    Animated files (APNG, animated WebP, GIF) give their first frame; all metadata is dropped.

    Raises:
        InputError: file_too_large, unsupported_format, image_too_large or corrupt_image.
    """
    image, kind = _open(data, limits)
    width, height = image.size
    factor = max_long_side / max(width, height)
    try:
        if kind is _JPEG and factor < 1.0:
            # Let the DCT do the downscale (1/2, 1/4 or 1/8). Accepting down to 3/4 of the
            # target keeps a 4000x3000 photo at 2000x1500 instead of a full 12 MP decode.
            draft_factor = factor * DRAFT_TOLERANCE
            image.draft(image.mode, (max(1, int(width * draft_factor)), max(1, int(height * draft_factor))))
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image) or image
        image = _flatten(image)
        if max(image.size) > max_long_side:
            image.thumbnail((max_long_side, max_long_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        pixels = np.asarray(image, dtype=np.uint8)
    except Image.DecompressionBombError as error:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise InputError(ErrorCode.CORRUPT_IMAGE) from error
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError(ErrorCode.CORRUPT_IMAGE)
    return np.ascontiguousarray(pixels)
