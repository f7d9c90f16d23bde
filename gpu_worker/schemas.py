"""Typed request and result objects of the generation pipeline."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

# progress(stage, fraction_of_whole_job in 0..1)
ProgressCallback = Callable[[str, float], None]


class Backend(StrEnum):
    STUDIO = "studio"
    DIFFUSION = "diffusion"


class OutputFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"


@dataclass(frozen=True)
class InputLimits:
    """What an upload may be and cost. The structure limits sit well above what cameras,
    phones and common encoders write (see docs/upload-safety.md) and far below what makes a
    decoder's cost grow out of proportion to the file."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    # JPEG: scans (libjpeg's progressive default is 10, mozjpeg's up to ~20) and marker segments.
    max_jpeg_scans: int = 64
    max_jpeg_segments: int = 1024
    # PNG and WebP chunks (libpng writes 8 KiB IDAT chunks: ~2,600 for a 20 MiB file).
    max_png_chunks: int = 16384
    # Animation frames (APNG, animated WebP); only the first is ever used.
    max_frames: int = 256
    # Compressed metadata (PNG iCCP, zTXt, iTXt) inflated, in all.
    max_metadata_bytes: int = 4 * 1024 * 1024
    # HEIF items (a 48 MP phone photo is ~200 grid tiles), and boxes in all.
    max_heif_items: int = 512
    max_heif_boxes: int = 8192
    # The worker's decode runs in a child process under these budgets (gpu_worker.decode).
    decode_cpu_seconds: int = 10
    decode_wall_seconds: float = 30.0

    @classmethod
    def from_environment(cls) -> InputLimits:
        """The worker's limits: the same variables the web tier's settings read, so both tiers
        judge a photo alike, plus the decode budgets (README, "Settings")."""
        defaults = cls()

        def number(name: str, default: float) -> float:
            value = os.environ.get(name, "").strip()
            return float(value) if value else default

        return cls(
            max_bytes=int(number("PROPORTRAIT_MAX_UPLOAD_BYTES", defaults.max_bytes)),
            max_pixels=int(number("PROPORTRAIT_MAX_IMAGE_PIXELS", defaults.max_pixels)),
            decode_cpu_seconds=int(number("PROPORTRAIT_DECODE_CPU_SECONDS", defaults.decode_cpu_seconds)),
            decode_wall_seconds=number("PROPORTRAIT_DECODE_WALL_SECONDS", defaults.decode_wall_seconds),
        )


@dataclass(frozen=True)
class Style:
    """A portrait style, shared by both backends. Organisations define their own (brand styles)."""

    slug: str
    name: str
    description: str
    # backdrop colours as "#rrggbb", from centre (lit) to edge; variants pick within the list
    backdrop_colours: tuple[str, ...]
    prompt: str
    negative_prompt: str = ""
    # "4:5" or "1:1"
    aspect: str = "4:5"
    # fraction of the output height above the top of the head
    headroom: float = 0.12
    # warm (>0) or cool (<0) colour grade, -1..1
    warmth: float = 0.0
    output_format: OutputFormat = OutputFormat.JPEG
    # long side of the full-resolution output in pixels
    output_long_side: int = 1280


@dataclass(frozen=True)
class UploadInfo:
    """What the web tier learns about an upload without fully decoding it."""

    format: str  # "JPEG", "PNG", "WEBP", "HEIF"
    width: int
    height: int
    mime_type: str


@dataclass(frozen=True)
class GenerationRequest:
    """One job. `photo` is the decrypted original, in memory only."""

    job_id: str
    # Never in a repr: a logged or error-reported request must not carry the photo.
    photo: bytes = field(repr=False)
    style: Style
    variants: int = 4
    seed: int = 0
    backend: Backend = Backend.STUDIO
    preview_long_side: int = 640
    watermark_text: str = "ProPortrait preview"
    progress: ProgressCallback | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PortraitImage:
    """One finished portrait: encoded bytes, metadata stripped, AI-generated XMP mark embedded."""

    variant: int
    full: bytes
    full_format: OutputFormat
    width: int
    height: int
    preview: bytes  # watermarked JPEG
    preview_width: int
    preview_height: int


@dataclass(frozen=True)
class GenerationResult:
    job_id: str
    backend: Backend
    portraits: tuple[PortraitImage, ...]
    timings_seconds: dict[str, float] = field(default_factory=dict)
