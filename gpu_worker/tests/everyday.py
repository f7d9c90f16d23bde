"""A corpus of everyday photos, built in code: the awkward cases people actually upload.

There is no photo library here, so the cases are made from test images that ship inside
scikit-image (the public-domain NASA astronaut portrait, and busy scenes: a cup of coffee, a
cat, a rocket, an immunohistochemistry slide as a wild texture). Each case keeps, beside its
pixels, the regions that are known not to be the subject (a second person's arm, objects on a
table), so tests can check the output against them.

Cases:
- `busy_room`: the astronaut in front of a busy, colourful scene instead of a backdrop.
- `edge_left`: the subject near the photo's left edge, the shoulder cut off by it.
- `cut_bottom`: the photo ends at the chest (a typical phone crop).
- `objects_in_front`: a table with cards, chips and a glass in front of and beside the torso.
- `second_arm`: someone else's shoulder and arm entering the frame from the right.
- `small_440`, `small_300`: small crops (the second is below the documented minimum).
- `twelve_megapixels`: the benchmark photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np
from skimage import data as skdata

from gpu_worker.tests.corpus import astronaut, large_pixels


@dataclass(frozen=True)
class EverydayPhoto:
    """One test photo and what is known about it.

    Attributes:
        name: the case.
        pixels: HxWx3 RGB uint8.
        not_subject: HxW bool, pixels that are certainly not the subject (other people,
            objects beside the person); the subject's matte must be 0 there.
        refused: the error code the pipeline must answer with, or "" when it makes portraits.
    """

    name: str
    pixels: np.ndarray = field(repr=False)
    not_subject: np.ndarray = field(repr=False)
    refused: str = ""


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _busy_background(width: int, height: int) -> np.ndarray:
    """A cluttered, colourful scene: four photos tiled and scaled, with hard edges between."""
    tiles = [skdata.coffee(), skdata.chelsea(), skdata.rocket(), skdata.immunohistochemistry()]
    half_w, half_h = width // 2 + 1, height // 2 + 1
    top = np.concatenate([_resize(tiles[0], half_w, half_h), _resize(tiles[1], half_w, half_h)], axis=1)
    bottom = np.concatenate([_resize(tiles[2], half_w, half_h), _resize(tiles[3], half_w, half_h)], axis=1)
    return np.ascontiguousarray(np.concatenate([top, bottom], axis=0)[:height, :width])


@cache
def _astronaut_matte() -> np.ndarray:
    """The astronaut's matte in her own photo (plain backdrop, where segmentation is reliable),
    without the photo's flag, shuttle model and helmet."""
    from gpu_worker.analysis import analyse_face

    matte = analyse_face(astronaut()).person_mask.copy()
    matte[:, 400:] = 0.0  # the helmet on the table
    matte[:, :30] = 0.0  # the flag
    # Her body runs on to the bottom of the photo, as a person's does (the analysis ends it
    # where her hands and the helmet widen it; a pasted torso must not end in a straight line).
    for row in range(340, matte.shape[0]):
        matte[row] = np.maximum(matte[row], matte[row - 1])
    return cv2.GaussianBlur(np.where(matte > 0.5, 1.0, 0.0).astype(np.float32), (0, 0), 1.5)


def _person_layer(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The astronaut at `size` px and her matte, to place her on another scene."""
    return _resize(astronaut(), size, size), _resize(_astronaut_matte(), size, size)


def _place(canvas: np.ndarray, layer: np.ndarray, matte: np.ndarray, x: int, y: int) -> np.ndarray:
    """Composite `layer` with `matte` onto `canvas` at (x, y), clipped to the canvas."""
    out = canvas.astype(np.float32)
    height, width = canvas.shape[:2]
    lh, lw = layer.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + lw), min(height, y + lh)
    if x1 <= x0 or y1 <= y0:
        return canvas
    part = layer[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    weight = matte[y0 - y : y1 - y, x0 - x : x1 - x, None]
    out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - weight) + part * weight
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def busy_room() -> EverydayPhoto:
    background = _busy_background(1000, 1200)
    person, matte = _person_layer(900)
    pixels = _place(background, person, matte, 60, 300)
    return EverydayPhoto("busy_room", pixels, np.zeros(pixels.shape[:2], bool))


def edge_left() -> EverydayPhoto:
    background = _busy_background(1000, 1100)
    person, matte = _person_layer(900)
    # Her face about 200 px from the left edge; her right shoulder runs off the photo.
    pixels = _place(background, person, matte, -110, 200)
    return EverydayPhoto("edge_left", pixels, np.zeros(pixels.shape[:2], bool))


def cut_bottom() -> EverydayPhoto:
    # The photo ends at the chest: the astronaut's top 320 rows, enlarged like a phone crop.
    pixels = _resize(astronaut()[:320, 40:480], 880, 640)
    return EverydayPhoto("cut_bottom", pixels, np.zeros(pixels.shape[:2], bool))


def objects_in_front() -> EverydayPhoto:
    background = _busy_background(1200, 1100)
    person, matte = _person_layer(900)
    pixels = _place(background, person, matte, 150, 150)
    not_subject = np.zeros(pixels.shape[:2], bool)
    # A table across the bottom, with cards and chips on it left and right of her.
    table_top = 930
    pixels[table_top:] = (118, 78, 46)
    rng = np.random.default_rng(5)
    for x in (40, 150, 930, 1040):
        card = np.array([[x, 960], [x + 90, 945], [x + 110, 1070], [x + 20, 1085]], np.int32)
        cv2.fillPoly(pixels, [card], (245, 245, 240))
        cv2.circle(pixels, (x + 55, 1010), 14, (200, 20, 30), -1)
    for _ in range(14):
        cx = int(rng.choice([rng.integers(20, 300), rng.integers(900, 1180)]))
        cv2.circle(pixels, (cx, int(rng.integers(1000, 1090))), 22, (20, 60, 180), -1)
        cv2.circle(pixels, (cx, int(rng.integers(1000, 1090))), 16, (230, 230, 230), 3)
    not_subject[table_top:, :330] = True
    not_subject[table_top:, 880:] = True
    # A glass in front of her torso.
    cv2.ellipse(pixels, (600, 900), (55, 120), 0, 0, 360, (200, 220, 230), -1)
    cv2.ellipse(pixels, (600, 900), (55, 120), 0, 0, 360, (90, 100, 110), 4)
    return EverydayPhoto("objects_in_front", pixels, not_subject)


def second_arm() -> EverydayPhoto:
    background = _busy_background(1100, 1100)
    person, matte = _person_layer(900)
    pixels = _place(background, person, matte, 60, 220)
    # Someone else: the same figure mirrored, her face off to the right of the photo, so only
    # her shoulder and arm reach in.
    other, other_matte = person[:, ::-1], matte[:, ::-1]
    before = pixels.copy()
    pixels = _place(pixels, other, other_matte, 720, 330)
    not_subject = np.abs(pixels.astype(np.int16) - before).max(axis=2) > 10
    not_subject[:, :900] = False  # where it may overlap her own shoulder, it is not "certain"
    return EverydayPhoto("second_arm", pixels, not_subject)


def small(size: int) -> EverydayPhoto:
    pixels = _resize(astronaut(), size, size)
    # At 300 px her face is under the 80 px the analysis needs: refused before any framing.
    refused = "face_too_small" if size < 400 else ""
    return EverydayPhoto(f"small_{size}", pixels, np.zeros(pixels.shape[:2], bool), refused)


def twelve_megapixels() -> EverydayPhoto:
    pixels = large_pixels(4000, 3000)
    return EverydayPhoto("twelve_megapixels", pixels, np.zeros(pixels.shape[:2], bool))


CASES: dict[str, Callable[[], EverydayPhoto]] = {
    "busy_room": busy_room,
    "edge_left": edge_left,
    "cut_bottom": cut_bottom,
    "objects_in_front": objects_in_front,
    "second_arm": second_arm,
    "small_440": lambda: small(440),
    "small_300": lambda: small(300),
    "twelve_megapixels": twelve_megapixels,
}


@cache
def photo(name: str) -> EverydayPhoto:
    """One case of the corpus (built once per test process)."""
    return CASES[name]()
