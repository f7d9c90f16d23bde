"""Typed request and result objects of the generation pipeline."""

from __future__ import annotations

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
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000


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
