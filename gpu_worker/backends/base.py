"""The contract every rendering backend implements.

A renderer receives the decoded photo (RGB uint8, the working resolution chosen by the
pipeline), the in-memory `FaceAnalysis` of that photo, and the style. It returns one RGB
uint8 frame per variant, already at the final framing and output size (see
`gpu_worker.framing.compute_framing`). Finishing (encoding, watermark, metadata) is not the
renderer's job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from gpu_worker.analysis import FaceAnalysis
from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.framing import output_size
from gpu_worker.schemas import Style

# progress(fraction of the render stage done, 0..1); renderers call it as they go.
RenderProgress = Callable[[float], None]


@runtime_checkable
class Renderer(Protocol):
    """A backend that turns one analysed photo into `variants` framed portraits."""

    #: short name for logs and timings ("studio", "diffusion")
    name: str

    def render(
        self,
        photo: np.ndarray,
        analysis: FaceAnalysis,
        style: Style,
        variants: int,
        seed: int,
        progress: RenderProgress | None = None,
    ) -> list[np.ndarray]:
        """Render `variants` portraits.

        Args:
            photo: HxWx3 RGB uint8, the same array `analysis` was computed on.
            analysis: face box, landmarks and masks of `photo` (pixel coordinates of `photo`).
            style: backdrop colours, prompts, aspect, output size, grade.
            variants: how many portraits, 1..8; variant i must differ from variant j.
            seed: the same (photo, style, variants, seed) must give identical frames, so a
                retried job produces the same portraits.
            progress: optional callback with the fraction of rendering done.

        Returns:
            `variants` arrays of shape (H, W, 3), dtype uint8, RGB, all the same size: (W, H)
            equal to `gpu_worker.framing.output_size(style)`, or smaller in the same aspect
            where the photo has too few pixels for it (never upscaled past what it holds).
        """
        ...


def report(progress: RenderProgress | None, fraction: float) -> None:
    """Call `progress` if given, clamping the fraction to 0..1."""
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)))


def check_frames(frames: list[np.ndarray], style: Style, variants: int) -> list[np.ndarray]:
    """Verify a renderer's output against the contract; raise GenerationError if broken.

    The pipeline calls this after every render so a faulty backend fails loudly with
    `generation_failed` instead of producing odd files.
    """
    width, height = output_size(style)
    if len(frames) != variants:
        raise GenerationError(
            ErrorCode.GENERATION_FAILED, f"renderer returned {len(frames)} frames, expected {variants}"
        )
    first = frames[0].shape if frames else (height, width, 3)
    same_aspect = len(first) == 3 and abs(first[1] * height - first[0] * width) <= max(width, height)
    for frame in frames:
        if (
            frame.dtype != np.uint8
            or frame.shape != first
            or frame.shape[2:] != (3,)
            or not same_aspect
            or frame.shape[0] > height
            or frame.shape[1] > width
        ):
            raise GenerationError(
                ErrorCode.GENERATION_FAILED,
                f"renderer returned a {frame.dtype} frame of shape {frame.shape}, "
                f"expected uint8 ({height}, {width}, 3) or smaller in the same aspect",
            )
    return frames
