"""Head-and-shoulders framing: where the output frame sits in the photo.

The rule, as a portrait photographer would set it up:
- the eyes sit on the upper third line of the frame;
- the top of the head sits `style.headroom` of the frame height below the top edge, which
  fixes the scale; the scale is then clamped so the head is neither a tiny figure nor an
  extreme close-up when the two constraints disagree (unusual poses, hats, tall hair);
- the face is centred horizontally.

The transform is a pure scale and translation (no rotation, so the subject's pose is kept):
``output = (photo - offset) * scale``. Where the frame extends beyond the photo, `warp` leaves
zeros and `valid_mask` says where; renderers fill those parts with backdrop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gpu_worker.analysis import FaceAnalysis
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
        hair, moire on fabric) when shrinking by more than ~1.5x. Outside the photo: zeros, or
        the nearest edge pixel with `border=cv2.BORDER_REPLICATE` (continues a torso that the
        photo cuts off above the frame's bottom edge).
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


def compute_framing(analysis: FaceAnalysis, style: Style) -> Framing:
    """Head-and-shoulders framing of the analysed face for `style`'s aspect and size."""
    width, height = output_size(style)
    eye_x, eye_y = analysis.eye_centre
    head_top_y = analysis.head_top[1]
    chin_y = analysis.chin[1]
    head_height = max(1.0, chin_y - head_top_y)

    # Eyes on the third line and head top at the headroom line fix the scale ...
    eye_to_top = max(1.0, eye_y - head_top_y)
    target_gap = max(0.05, EYE_LINE - style.headroom) * height
    scale = target_gap / eye_to_top
    # ... within sane head sizes.
    min_scale = MIN_HEAD_FRACTION * height / head_height
    max_scale = MAX_HEAD_FRACTION * height / head_height
    scale = float(np.clip(scale, min_scale, max_scale))

    # Centre horizontally on the face axis (between the eyes and the chin, robust to a tilt).
    centre_x = (eye_x + analysis.chin[0]) / 2.0
    offset_x = centre_x - (width / 2.0) / scale
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
