"""Head-and-shoulders framing: where the output frame sits in the photo.

The rule, as a portrait photographer would set it up:
- the eyes sit on the upper third line of the frame;
- the top of the head sits `style.headroom` of the frame height below the top edge, which
  fixes the scale; the scale is then clamped so the head is neither a tiny figure nor an
  extreme close-up when the two constraints disagree (unusual poses, hats, tall hair);
- the face is centred horizontally.

The transform is a pure scale and translation (no rotation, so the subject's pose is kept):
``output = (photo - offset) * scale``. Where the frame extends beyond the photo, `warp` leaves
zeros and `valid_mask` says where; renderers paint backdrop there and never copy, mirror or
stretch photo pixels into it. Where the photo's edge cuts through the person, the framing keeps
the cut outside the frame if it can (off-centre, tighter); the renderer fades what remains.

Output sizes are honest: `supported_size` never asks for more than MAX_UPSCALE output pixels
per photo pixel, and a photo that cannot reach MIN_OUTPUT_LONG_SIDE is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from gpu_worker.analysis import FaceAnalysis
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import Style

EYE_LINE = 1.0 / 3.0
# Head height (top of head to chin) as a fraction of the frame height: below the minimum the
# portrait looks like a snapshot, above the maximum like a passport photo cut too tight.
MIN_HEAD_FRACTION = 0.30
MAX_HEAD_FRACTION = 0.50

ASPECTS: dict[str, tuple[int, int]] = {"4:5": (4, 5), "1:1": (1, 1)}


def output_size(style: Style) -> tuple[int, int]:
    """(width, height) of a full-resolution portrait for `style` (long side = output_long_side)."""
    if style.aspect not in ASPECTS:
        raise ValueError(f"unsupported aspect {style.aspect!r}; use one of {sorted(ASPECTS)}")
    aspect_w, aspect_h = ASPECTS[style.aspect]
    long_side = style.output_long_side
    if aspect_h >= aspect_w:
        return round(long_side * aspect_w / aspect_h), long_side
    return long_side, round(long_side * aspect_h / aspect_w)


@dataclass(frozen=True)
class Framing:
    """Scale-and-translate transform from photo pixels to output pixels.

    Attributes:
        output_width, output_height: size of the output frame.
        scale: output pixels per photo pixel.
        offset_x, offset_y: photo coordinates of the output's top-left corner.
        photo_width, photo_height: size of the photo the framing was computed for.
    """

    output_width: int
    output_height: int
    scale: float
    offset_x: float
    offset_y: float
    photo_width: int
    photo_height: int

    @property
    def matrix(self) -> np.ndarray:
        """2x3 affine matrix (float64) mapping photo to output, for cv2.warpAffine."""
        s = self.scale
        return np.array([[s, 0.0, -self.offset_x * s], [0.0, s, -self.offset_y * s]], dtype=np.float64)

    def to_output(self, x: float, y: float) -> tuple[float, float]:
        """Map a photo point to output coordinates."""
        return (x - self.offset_x) * self.scale, (y - self.offset_y) * self.scale

    def to_photo(self, x: float, y: float) -> tuple[float, float]:
        """Map an output point back to photo coordinates."""
        return x / self.scale + self.offset_x, y / self.scale + self.offset_y

    @property
    def crop_box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the output frame in photo coordinates; may extend past the photo."""
        x1, y1 = self.to_photo(self.output_width, self.output_height)
        return self.offset_x, self.offset_y, x1, y1

    def warp(
        self, image: np.ndarray, interpolation: int = cv2.INTER_LINEAR, border: int = cv2.BORDER_CONSTANT
    ) -> np.ndarray:
        """Resample `image` (photo-sized, any channel count, uint8 or float32) into the frame.

        Downscaling goes through INTER_AREA first, because warpAffine alone aliases (jagged
        hair, moire on fabric) when shrinking by more than ~1.5x. Outside the photo: zeros (the
        `border` argument exists for masks; photo pixels are never replicated into a frame).
        """
        if image.shape[:2] != (self.photo_height, self.photo_width):
            raise ValueError(f"image shape {image.shape[:2]} does not match the framed photo")
        source, scale, offset_x, offset_y = image, self.scale, self.offset_x, self.offset_y
        if scale < 0.75:
            # Crop to the visible part first (cheap), then shrink it with an area filter.
            x0 = max(0, int(np.floor(offset_x)))
            y0 = max(0, int(np.floor(offset_y)))
            crop_x1, crop_y1 = self.crop_box[2], self.crop_box[3]
            x1 = min(self.photo_width, int(np.ceil(crop_x1)) + 1)
            y1 = min(self.photo_height, int(np.ceil(crop_y1)) + 1)
            if x1 <= x0 or y1 <= y0:
                return np.zeros((self.output_height, self.output_width, *image.shape[2:]), image.dtype)
            crop = image[y0:y1, x0:x1]
            small_w = max(1, round((x1 - x0) * scale))
            small_h = max(1, round((y1 - y0) * scale))
            # The warp below then only shifts by a sub-pixel amount and corrects rounding.
            source = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
            real_sx = small_w / (x1 - x0)
            real_sy = small_h / (y1 - y0)
            matrix = np.array(
                [
                    [scale / real_sx, 0.0, (x0 - offset_x) * scale],
                    [0.0, scale / real_sy, (y0 - offset_y) * scale],
                ],
                dtype=np.float64,
            )
        else:
            matrix = self.matrix
        return cv2.warpAffine(
            source,
            matrix,
            (self.output_width, self.output_height),
            flags=interpolation,
            borderMode=border,
            borderValue=(0,),
        )

    def valid_mask(self) -> np.ndarray:
        """float32 HxW of the output: 1 where the photo covers the frame, 0 where it does not."""
        ones = np.ones((self.photo_height, self.photo_width), np.float32)
        return cv2.warpAffine(
            ones,
            self.matrix,
            (self.output_width, self.output_height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0,),
        )


class Crop(StrEnum):
    """How much of the person a portrait shows; the studio backend offers each as a choice."""

    CLOSE_UP = "close-up"
    HEAD_AND_SHOULDERS = "head-and-shoulders"
    LOOSE = "loose"


# Scale of each crop relative to the head-and-shoulders framing of the style.
CROP_ZOOM: dict[Crop, float] = {Crop.CLOSE_UP: 1.3, Crop.HEAD_AND_SHOULDERS: 1.0, Crop.LOOSE: 0.8}
# Head height as a fraction of the frame height, per crop (the zoom is clamped to this range).
CROP_HEAD_FRACTION: dict[Crop, tuple[float, float]] = {
    Crop.CLOSE_UP: (0.40, 0.58),
    Crop.HEAD_AND_SHOULDERS: (MIN_HEAD_FRACTION, MAX_HEAD_FRACTION),
    Crop.LOOSE: (0.24, 0.40),
}
# How far the face may sit off the frame's centre line (fraction of the frame width) so that a
# body cut by the photo's side edge ends outside the frame rather than inside it.
MAX_OFF_CENTRE = 0.10
# The tightest a framing may zoom in to keep a cut edge out of the frame (head fraction).
MAX_RESCUE_HEAD_FRACTION = 0.62
# A photo edge counts as cutting the person when this share of the edge's run next to the
# subject is covered by the person mask.
CUT_EDGE_COVERAGE = 0.02

# Output size honesty (documented in docs/benchmarks-studio.md):
# a portrait is never rendered with more than MAX_UPSCALE output pixels per photo pixel (more
# looks soft and blocky), and a photo that cannot give MIN_OUTPUT_LONG_SIDE pixels on the
# long side at that limit is refused with `photo_too_small`.
MAX_UPSCALE = 1.25
MIN_OUTPUT_LONG_SIDE = 400


@dataclass(frozen=True)
class CutEdges:
    """Which edges of the photo cut through the person (their body continues past them)."""

    left: bool = False
    top: bool = False
    right: bool = False
    bottom: bool = False


def cut_edges(person_mask: np.ndarray, threshold: float = 0.5) -> CutEdges:
    """Edges of the photo along which the person mask is present (the body runs off there)."""
    edge = max(1, min(person_mask.shape) // 200)
    left = float((person_mask[:, :edge] > threshold).mean())
    right = float((person_mask[:, -edge:] > threshold).mean())
    top = float((person_mask[:edge] > threshold).mean())
    bottom = float((person_mask[-edge:] > threshold).mean())
    return CutEdges(
        left=left > CUT_EDGE_COVERAGE,
        top=top > CUT_EDGE_COVERAGE,
        right=right > CUT_EDGE_COVERAGE,
        bottom=bottom > CUT_EDGE_COVERAGE,
    )


def subject_cuts(analysis: FaceAnalysis) -> CutEdges:
    """Where the person's body is cut: by the photo's edges, or (bottom) where something in
    front of the person ends it (`FaceAnalysis.body_end_y`)."""
    cut = cut_edges(analysis.person_mask)
    if analysis.body_end_y is not None and not cut.bottom:
        return CutEdges(left=cut.left, top=cut.top, right=cut.right, bottom=True)
    return cut


def _head_and_shoulders_scale(analysis: FaceAnalysis, style: Style, height: int) -> float:
    """Eyes on the third line and head top at the style's headroom line fix the scale, within
    sane head sizes."""
    eye_y = analysis.eye_centre[1]
    head_height = max(1.0, analysis.chin[1] - analysis.head_top[1])
    eye_to_top = max(1.0, eye_y - analysis.head_top[1])
    target_gap = max(0.05, EYE_LINE - style.headroom) * height
    scale = target_gap / eye_to_top
    return float(
        np.clip(scale, MIN_HEAD_FRACTION * height / head_height, MAX_HEAD_FRACTION * height / head_height)
    )


def supported_size(analysis: FaceAnalysis, style: Style) -> tuple[int, int]:
    """The largest output size (<= the style's) this photo supports without visible upscaling.

    Measured on the head-and-shoulders crop: the photo pixels across its height, times
    MAX_UPSCALE. Raises InputError(photo_too_small) below MIN_OUTPUT_LONG_SIDE.
    """
    width, height = output_size(style)
    scale = _head_and_shoulders_scale(analysis, style, height)
    # Output pixels per photo pixel at the style's size; shrink the output until <= MAX_UPSCALE.
    factor = min(1.0, MAX_UPSCALE / scale)
    long_side = int(style.output_long_side * factor) // 8 * 8
    if long_side < MIN_OUTPUT_LONG_SIDE:
        raise InputError(ErrorCode.PHOTO_TOO_SMALL, photo_too_small_message(MIN_OUTPUT_LONG_SIDE))
    if long_side >= style.output_long_side:
        return width, height
    aspect_w, aspect_h = ASPECTS[style.aspect]
    if aspect_h >= aspect_w:
        return round(long_side * aspect_w / aspect_h), long_side
    return long_side, round(long_side * aspect_h / aspect_w)


def photo_too_small_message(min_long_side: int = MIN_OUTPUT_LONG_SIDE) -> str:
    """The plain-language refusal for a photo with too few pixels around the head and shoulders."""
    return (
        "This photo is too small for a sharp portrait: the part around your head and shoulders "
        f"would have to be enlarged to reach {min_long_side} pixels. Please upload a larger or "
        "less cropped photo (a phone photo straight from the camera works best)."
    )


# A head-and-shoulders frame covers at most ~60% of a typical photo's long side, so a photo
# decoded at 1.6x the output's long side keeps every pixel the frame can use. Capped: above it
# the cost of analysis grows faster than the detail it can add.
WORKING_PER_OUTPUT = 1.6
MAX_WORKING_LONG_SIDE = 4096


def working_long_side_for(style: Style, default: int) -> int:
    """Long side to decode the photo to for `style`: `default`, or more for large outputs
    (a 2048 px portrait needs more than a 2048 px photo's head-and-shoulders crop holds)."""
    return int(min(MAX_WORKING_LONG_SIDE, max(default, np.ceil(style.output_long_side * WORKING_PER_OUTPUT))))


def size_note(width: int, height: int, style: Style) -> str | None:
    """What to tell the person when their portraits are smaller than the style's size (the
    photo held too few pixels); None when they are full size."""
    full_width, full_height = output_size(style)
    if width >= full_width and height >= full_height:
        return None
    return (
        f"These portraits are {width} x {height} pixels, smaller than the usual "
        f"{full_width} x {full_height}: your photo has too few pixels around your head and "
        "shoulders for a sharp larger portrait, and we do not enlarge photos beyond what they "
        "hold. For full size, upload a larger or less cropped photo."
    )


def min_photo_size(style: Style) -> tuple[int, int]:
    """(width, height) below which no framing of any photo can reach MIN_OUTPUT_LONG_SIDE.

    The web tier checks this from the upload's header; the worker then decides per face
    (`supported_size`), since only the face analysis tells how much of the photo the frame uses.
    """
    aspect_w, aspect_h = ASPECTS.get(style.aspect, (4, 5))
    frame_long = MIN_OUTPUT_LONG_SIDE / MAX_UPSCALE
    if aspect_h >= aspect_w:
        return int(np.ceil(frame_long * aspect_w / aspect_h)), int(np.ceil(frame_long))
    return int(np.ceil(frame_long)), int(np.ceil(frame_long * aspect_h / aspect_w))


def check_photo_size(width: int, height: int, style: Style) -> None:
    """Refuse (InputError photo_too_small) a photo too small for any portrait in `style`."""
    min_width, min_height = min_photo_size(style)
    if width < min_width or height < min_height:
        raise InputError(ErrorCode.PHOTO_TOO_SMALL, photo_too_small_message())


def compute_framing(
    analysis: FaceAnalysis,
    style: Style,
    crop: Crop = Crop.HEAD_AND_SHOULDERS,
    size: tuple[int, int] | None = None,
    cut: CutEdges | None = None,
    max_scale: float | None = None,
    off_centre: float = 0.0,
) -> Framing:
    """Framing of the analysed face for `style`'s aspect, `crop` and output `size`.

    With `cut` (the photo edges that cut through the person), the frame keeps those cuts out
    of the picture the way a photographer would: first by moving the face up to MAX_OFF_CENTRE
    off the centre line, then by zooming in (never past MAX_RESCUE_HEAD_FRACTION). Whatever
    cut remains inside the frame is faded by the renderer; it is never filled with copied
    pixels.
    """
    width, height = size or output_size(style)
    eye_x, eye_y = analysis.eye_centre
    head_height = max(1.0, analysis.chin[1] - analysis.head_top[1])
    low, high = CROP_HEAD_FRACTION[crop]
    scale = _head_and_shoulders_scale(analysis, style, height) * CROP_ZOOM[crop]
    scale = float(np.clip(scale, low * height / head_height, high * height / head_height))
    if max_scale is not None:
        scale = min(scale, max(max_scale, _head_and_shoulders_scale(analysis, style, height)))
    # Centre horizontally on the face axis (between the eyes and the chin, robust to a tilt).
    centre_x = (eye_x + analysis.chin[0]) / 2.0
    wanted = float(np.clip(off_centre, -MAX_OFF_CENTRE, MAX_OFF_CENTRE))
    # The frame moves the other way to put the face off the centre line.
    shift = -wanted * width / scale
    if cut is not None and (cut.left or cut.right or cut.bottom):
        scale, shift = _keep_cuts_outside(
            analysis, cut, scale, centre_x, eye_y, width, height, head_height, max_scale, wanted
        )
    offset_x = centre_x + shift - (width / 2.0) / scale
    offset_y = eye_y - (EYE_LINE * height) / scale
    return Framing(
        output_width=width,
        output_height=height,
        scale=scale,
        offset_x=float(offset_x),
        offset_y=float(offset_y),
        photo_width=analysis.width,
        photo_height=analysis.height,
    )


def _keep_cuts_outside(
    analysis: FaceAnalysis,
    cut: CutEdges,
    scale: float,
    centre_x: float,
    eye_y: float,
    width: int,
    height: int,
    head_height: float,
    limit: float | None,
    wanted: float,
) -> tuple[float, float]:
    """The smallest zoom (>= `scale`) and horizontal shift that keep the cut edges outside."""
    max_scale = MAX_RESCUE_HEAD_FRACTION * height / head_height
    if limit is not None:
        max_scale = min(max_scale, limit)
    max_scale = max(scale, max_scale)
    best = (scale, 0.0)
    for candidate in np.geomspace(scale, max_scale, 16):
        half = width / (2.0 * candidate)
        allowed = MAX_OFF_CENTRE * width / candidate
        # Shift range [lo, hi] that keeps the cut side edges outside the frame.
        lo, hi = -allowed, allowed
        if cut.left:
            lo = max(lo, half - centre_x)  # frame left = centre + shift - half >= 0
        if cut.right:
            hi = min(hi, analysis.width - centre_x - half)
        body_bottom = analysis.height if analysis.body_end_y is None else analysis.body_end_y
        bottom_ok = not cut.bottom or eye_y + (1.0 - EYE_LINE) * height / candidate <= body_bottom + 0.5
        preferred = -wanted * width / candidate
        if lo <= hi and bottom_ok:
            return float(candidate), float(np.clip(preferred, lo, hi))
        best = (float(candidate), float(np.clip(preferred, min(lo, hi), max(lo, hi))))
    return best
