"""Face analysis: exactly one usable face, its key landmarks, and person/face/skin masks.

Uses the mediapipe 0.10 legacy solutions, whose .tflite models ship inside the wheel (nothing
is downloaded): full-range face detection (finds small and distant faces too, which is what
the `multiple_faces` and `face_too_small` checks need), face mesh (478 landmarks, for the
retouch protect mask and precise eyes/chin) and selfie segmentation (the person matte).

Everything here lives in memory for one job only: landmarks and masks are never written,
logged or returned to the web tier. No face embedding (biometric template) is computed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from gpu_worker.errors import ErrorCode, InputError

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

# Face mesh landmark indices (mediapipe canonical face model).
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]  # fmt: skip
EYE_A = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
EYE_B = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
BROW_A = [46, 53, 52, 65, 55, 70, 63, 105, 66, 107]
BROW_B = [276, 283, 282, 295, 285, 300, 293, 334, 296, 336]
LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
NOSTRILS = [98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64]
IRIS_A, IRIS_B = 468, 473
CHIN, FOREHEAD, UPPER_LIP_INNER, LOWER_LIP_INNER = 152, 10, 13, 14


@dataclass(frozen=True)
class AnalysisSettings:
    """Thresholds of the face checks; the defaults suit head-and-shoulders output at ~1 MP."""

    # Smallest face box height, in pixels of the analysed photo and as a fraction of its
    # height: below this the face would be upscaled so much the portrait looks soft.
    min_face_pixels: int = 80
    min_face_fraction: float = 0.05
    # A second face counts (multiple_faces) when its box height is at least this fraction of
    # the main face's: smaller faces are people far in the background, which we ignore.
    second_face_ratio: float = 0.5
    min_detection_confidence: float = 0.5
    # Long side of the images the models see; they resize to 128-256 px inputs internally.
    detection_long_side: int = 1024
    segmentation_long_side: int = 640
    mesh_crop_long_side: int = 512


@dataclass(frozen=True, eq=False)
class FaceAnalysis:
    """One face in one photo, in that photo's pixel coordinates (x right, y down).

    Points are (x, y) floats. "eye_a" is the eye on the image's left, "eye_b" on its right
    (not the person's left/right, which depends on mirroring). Masks are float32 HxW in 0..1,
    the same size as the photo.

    Attributes:
        width, height: size of the analysed photo.
        face_box: detector box (x0, y0, x1, y1), roughly brows to chin.
        eye_a, eye_b, mouth, chin, forehead: key landmarks.
        head_top: estimated top of the head including hair (from the person mask).
        person_mask: soft matte of the person whose face was found (selfie segmentation,
            upsampled, unrefined), cut to the region connected to the face: other people and
            loose objects are not in it.
        face_mask: face oval (forehead to chin), soft edge: what must stay the person's own.
        skin_mask: face_mask minus eyes, brows, lips and nostrils: where retouching may smooth.
        landmarks: (478, 2) float32 face mesh points, or None if the mesh failed and the
            key points came from the detector.
        detection_score: detector confidence 0..1.
        body_end_y: where something in front of the person (a table) meets the body, which
            ends there in `person_mask`; None when the body runs on to the photo's edge.
    """

    width: int
    height: int
    face_box: Box
    eye_a: Point
    eye_b: Point
    mouth: Point
    chin: Point
    forehead: Point
    head_top: Point
    person_mask: np.ndarray
    face_mask: np.ndarray
    skin_mask: np.ndarray
    landmarks: np.ndarray | None
    detection_score: float
    body_end_y: float | None = None

    @property
    def eye_centre(self) -> Point:
        """Midpoint between the eyes."""
        return (self.eye_a[0] + self.eye_b[0]) / 2.0, (self.eye_a[1] + self.eye_b[1]) / 2.0

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres in pixels."""
        return float(np.hypot(self.eye_b[0] - self.eye_a[0], self.eye_b[1] - self.eye_a[1]))

    @property
    def head_height(self) -> float:
        """Top of head to chin, in pixels."""
        return max(1.0, self.chin[1] - self.head_top[1])

    def __repr__(self) -> str:
        # Never print landmarks or masks (they may end up in logs or error reports).
        return f"FaceAnalysis({self.width}x{self.height}, score={self.detection_score:.2f})"


class _Models:
    """The mediapipe graphs, created once per process."""

    def __init__(self) -> None:
        import mediapipe as mp  # imported lazily: ~1 s, and the web tier never needs it

        solutions: Any = mp.solutions
        # Low graph thresholds; AnalysisSettings.min_detection_confidence filters afterwards.
        self.detector = solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.3
        )
        self.mesh = solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3
        )
        self.segmenter = solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)


# The graphs are not thread-safe; one lock guards creation and every call.
_lock = threading.Lock()
_models: _Models | None = None


def _get_models() -> _Models:
    global _models
    if _models is None:
        _models = _Models()
    return _models


def warm_up() -> None:
    """Load the models now (worker start-up) rather than on the first job."""
    with _lock:
        _get_models()


def _resize_long_side(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the long side is at most `long_side`; return the image and the factor used."""
    height, width = image.shape[:2]
    factor = min(1.0, long_side / max(height, width))
    if factor >= 1.0:
        return image, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), factor


@dataclass(frozen=True)
class _Detection:
    box: Box
    score: float
    keypoints: list[Point]  # eye, eye, nose tip, mouth, ear, ear (pixels)


def _detect_faces(models: _Models, photo: np.ndarray, settings: AnalysisSettings) -> list[_Detection]:
    small, factor = _resize_long_side(photo, settings.detection_long_side)
    height, width = small.shape[:2]
    result = models.detector.process(np.ascontiguousarray(small))
    faces: list[_Detection] = []
    for detection in result.detections or []:
        score = float(detection.score[0])
        if score < settings.min_detection_confidence:
            continue
        data = detection.location_data
        rel = data.relative_bounding_box
        box = (
            rel.xmin * width / factor,
            rel.ymin * height / factor,
            (rel.xmin + rel.width) * width / factor,
            (rel.ymin + rel.height) * height / factor,
        )
        keypoints = [(k.x * width / factor, k.y * height / factor) for k in data.relative_keypoints]
        faces.append(_Detection(box=box, score=score, keypoints=keypoints))
    faces.sort(key=lambda face: face.box[3] - face.box[1], reverse=True)
    return faces


def _choose_face(faces: list[_Detection], photo_height: int, settings: AnalysisSettings) -> _Detection:
    if not faces:
        raise InputError(ErrorCode.NO_FACE)
    main = faces[0]
    main_height = main.box[3] - main.box[1]
    for other in faces[1:]:
        if other.box[3] - other.box[1] >= settings.second_face_ratio * main_height:
            raise InputError(ErrorCode.MULTIPLE_FACES)
    if main_height < settings.min_face_pixels or main_height < settings.min_face_fraction * photo_height:
        raise InputError(ErrorCode.FACE_TOO_SMALL)
    return main


def _mesh_landmarks(
    models: _Models, photo: np.ndarray, face: _Detection, settings: AnalysisSettings
) -> np.ndarray | None:
    """Face mesh on a crop around the detected face: the mesh's own detector wants a large face."""
    height, width = photo.shape[:2]
    x0, y0, x1, y1 = face.box
    size = 2.0 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left, top = int(max(0, cx - size / 2)), int(max(0, cy - size / 2))
    right, bottom = int(min(width, cx + size / 2)), int(min(height, cy + size / 2))
    crop, factor = _resize_long_side(photo[top:bottom, left:right], settings.mesh_crop_long_side)
    result = models.mesh.process(np.ascontiguousarray(crop))
    if not result.multi_face_landmarks:
        return None
    crop_h, crop_w = crop.shape[:2]
    points = np.array([(p.x, p.y) for p in result.multi_face_landmarks[0].landmark], dtype=np.float32)
    points[:, 0] = points[:, 0] * crop_w / factor + left
    points[:, 1] = points[:, 1] * crop_h / factor + top
    # Guard against the mesh latching onto something else than the detected face.
    mesh_x, mesh_y = points[:, 0].mean(), points[:, 1].mean()
    slack = size / 4
    if not (x0 - slack < mesh_x < x1 + slack and y0 - slack < mesh_y < y1 + slack):
        return None
    return points


def _person_mask(
    models: _Models, photo: np.ndarray, face: _Detection, settings: AnalysisSettings
) -> np.ndarray:
    """Selfie segmentation, twice: once on the whole photo, once on the head-and-shoulders
    region. The model sees 256 px, so the second pass gives the edges that matter (hair,
    shoulders) several times more resolution; the first covers the rest of the body."""
    height, width = photo.shape[:2]
    small, _ = _resize_long_side(photo, settings.segmentation_long_side)
    coarse = models.segmenter.process(np.ascontiguousarray(small)).segmentation_mask
    mask = cv2.resize(
        np.clip(coarse, 0.0, 1.0).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR
    )

    x0, y0, x1, y1 = face.box
    face_height = y1 - y0
    cx = (x0 + x1) / 2.0
    left, right = int(max(0, cx - 2.4 * face_height)), int(min(width, cx + 2.4 * face_height))
    top, bottom = int(max(0, y0 - 1.2 * face_height)), int(min(height, y0 + 4.2 * face_height))
    if (right - left) * (bottom - top) < 0.6 * width * height:
        crop, _ = _resize_long_side(photo[top:bottom, left:right], settings.segmentation_long_side)
        fine = models.segmenter.process(np.ascontiguousarray(crop)).segmentation_mask
        fine = cv2.resize(np.clip(fine, 0.0, 1.0).astype(np.float32), (right - left, bottom - top))
        # Blend the two over a margin so the crop's border leaves no seam.
        ramp = max(4, int(face_height * 0.3))
        weight_y = np.clip(np.minimum(np.arange(bottom - top), np.arange(bottom - top)[::-1]) / ramp, 0, 1)
        weight_x = np.clip(np.minimum(np.arange(right - left), np.arange(right - left)[::-1]) / ramp, 0, 1)
        # Keep the weight 1 along the photo's own edges (nothing there to blend with).
        if top == 0:
            weight_y[:ramp] = np.maximum(weight_y[:ramp], 1.0)
        if bottom == height:
            weight_y[-ramp:] = 1.0
        if left == 0:
            weight_x[:ramp] = 1.0
        if right == width:
            weight_x[-ramp:] = 1.0
        weight = (weight_y[:, None] * weight_x[None, :]).astype(np.float32)
        region = mask[top:bottom, left:right]
        mask[top:bottom, left:right] = region + weight * (fine - region)
    return mask


def _estimate_head_top(person_mask: np.ndarray, forehead: Point, chin: Point, face_width: float) -> Point:
    """Walk up from the forehead through the person mask to find the top of the hair.

    Falls back to a proportion of the face when the mask is unreliable there (hats, busy
    backgrounds): forehead-to-chin is about three quarters of the head height.
    """
    face_length = max(1.0, chin[1] - forehead[1])
    fallback = (forehead[0], forehead[1] - 0.3 * face_length)
    x = round(forehead[0])
    half_band = max(2, int(face_width * 0.2))
    x0, x1 = max(0, x - half_band), min(person_mask.shape[1], x + half_band + 1)
    y_start = int(min(person_mask.shape[0] - 1, max(0, forehead[1])))
    y_stop = int(max(0, forehead[1] - 0.9 * face_length))
    if x1 <= x0 or y_start <= y_stop:
        return fallback
    column = person_mask[y_stop : y_start + 1, x0:x1].mean(axis=1)[::-1]  # from forehead upwards
    if column[0] < 0.5:
        return fallback
    below = np.nonzero(column < 0.5)[0]
    climb = float(below[0]) if below.size else float(len(column) - 1)
    top_y = forehead[1] - climb
    # Hair taller than 0.9 face lengths or flatter than 0.1 is more likely a mask error.
    top_y = float(np.clip(top_y, forehead[1] - 0.9 * face_length, forehead[1] - 0.1 * face_length))
    return forehead[0], max(top_y, -0.5 * face_length)


# The region a person's own head, shoulders and upper arms can occupy, in face widths from the
# face's centre line: hair above the chin, widening over the shoulders below it. Anything the
# segmenter finds outside it (someone else's arm, a neighbour's shoulder) is not the subject.
CORRIDOR_HALF_WIDTH_HEAD = 1.0
CORRIDOR_HALF_WIDTH_BODY = 2.1
CORRIDOR_SHOULDER_DROP = 1.2  # face widths below the chin where the body width is reached
CORRIDOR_FEATHER = 0.15
# Hair rises at most this many face widths above the top of the face box.
CORRIDOR_ABOVE_FACE = 0.75
# Below the shoulders (BODY_CHECK_DROP face widths under the chin), a widening of the region by
# BODY_JUMP_RATIO within BODY_JUMP_ROWS face widths is something in front of the body.
BODY_CHECK_DROP = 1.4
BODY_JUMP_ROWS = 0.3
BODY_JUMP_RATIO = 1.2
BODY_END_FADE = 0.25
BODY_MIN_CONFIDENCE = 0.85


def _one_person(
    person_mask: np.ndarray, face_mask: np.ndarray, face_box: Box, chin: Point
) -> tuple[np.ndarray, float | None]:
    """Keep only the person whose face was found: the connected part of the segmentation that
    contains the face, within the body corridor of that face.

    The selfie segmenter marks every person-like thing (other people, hands, things held or
    lying in front). Cut to the corridor, the region connected to the face is this person; the
    rest is dropped. Where something in front of the person joins the body (a table), the
    body ends there; that row is returned too (None if the body runs on). Runs at quarter
    resolution: the mask came from a 256 px model.
    """
    height, width = person_mask.shape
    x0, y0, x1, _ = face_box
    face_width = max(1.0, x1 - x0)
    centre_x = (x0 + x1) / 2.0
    factor = 4 if min(height, width) >= 256 else 1
    small_w, small_h = max(1, width // factor), max(1, height // factor)
    xs = (np.arange(small_w, dtype=np.float32) + 0.5) * (width / small_w)
    ys = (np.arange(small_h, dtype=np.float32) + 0.5) * (height / small_h)
    drop = np.clip((ys - chin[1]) / (CORRIDOR_SHOULDER_DROP * face_width), 0.0, 1.0)
    half_width = face_width * (
        CORRIDOR_HALF_WIDTH_HEAD + drop * (CORRIDOR_HALF_WIDTH_BODY - CORRIDOR_HALF_WIDTH_HEAD)
    )
    distance = np.abs(xs[None, :] - centre_x) - half_width[:, None]
    # Above the face's centre the head is round: an ellipse reaching CORRIDOR_ABOVE_FACE face
    # widths above the face box, CORRIDOR_HALF_WIDTH_HEAD to each side.
    centre_y = (y0 + chin[1]) / 2.0
    radius_y = max(1.0, centre_y - (y0 - CORRIDOR_ABOVE_FACE * face_width))
    radius_x = CORRIDOR_HALF_WIDTH_HEAD * face_width
    ellipse = np.hypot((xs[None, :] - centre_x) / radius_x, (ys[:, None] - centre_y) / radius_y)
    head = (ellipse - 1.0) * radius_x
    distance = np.where(ys[:, None] < centre_y, head, distance)
    corridor = np.clip(0.5 - distance / (CORRIDOR_FEATHER * face_width), 0.0, 1.0).astype(np.float32)
    small = cv2.resize(person_mask, (small_w, small_h), interpolation=cv2.INTER_AREA) * corridor
    _, labels = cv2.connectedComponents((small > 0.5).astype(np.uint8), connectivity=8)
    face_small = cv2.resize(face_mask, (small_w, small_h), interpolation=cv2.INTER_AREA) > 0.5
    keep_labels = np.unique(labels[face_small & (labels > 0)])
    if keep_labels.size == 0:
        return person_mask * cv2.resize(corridor, (width, height), interpolation=cv2.INTER_LINEAR), None
    keep = np.isin(labels, keep_labels).astype(np.uint8)
    body_end = _body_end_row(keep, small, ys, chin[1], face_width)
    if body_end is not None:
        keep[body_end:] = 0
    # Grow the kept region a little so the soft edge of the mask (hair) stays with it.
    grown: np.ndarray = cv2.dilate(keep, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    grown = cv2.GaussianBlur(grown.astype(np.float32) * corridor, (0, 0), 1.0)
    keep_full = cv2.resize(grown, (width, height), interpolation=cv2.INTER_LINEAR)
    person = np.minimum(person_mask, np.clip(keep_full * 1.5, 0.0, 1.0)).astype(np.float32)
    if body_end is not None:
        # Where the body meets what is in front of it, it ends softly (a studio vignette).
        end_y = float(ys[body_end])
        fade = max(2.0, BODY_END_FADE * face_width)
        rows = np.arange(height, dtype=np.float32)
        person *= np.clip((end_y - rows) / fade, 0.0, 1.0)[:, None]
    return person, (float(ys[body_end]) if body_end is not None else None)


def _body_end_row(
    keep: np.ndarray, soft: np.ndarray, ys: np.ndarray, chin_y: float, face_width: float
) -> int | None:
    """The row where something in front of the person (a table, things on it, an arm resting
    on it) joins the body. Below the shoulders a torso's width changes slowly and the
    segmenter is sure of it; a sudden widening, or rows where it turns unsure, are not the
    person. None when the body runs on undisturbed."""
    widths = keep.sum(axis=1).astype(np.float32)
    confidence = (soft * keep).sum(axis=1) / np.maximum(widths, 1.0)
    step = max(1.0, float(ys[1] - ys[0])) if ys.size > 1 else 1.0
    start = int(np.searchsorted(ys, chin_y + BODY_CHECK_DROP * face_width))
    window = max(2, round(BODY_JUMP_ROWS * face_width / step))
    for row in range(start + window, keep.shape[0] - 1):
        before = float(np.median(widths[row - window : row]))
        if before <= 0:
            continue
        widens = widths[row] > BODY_JUMP_RATIO * before
        unsure = max(confidence[row], confidence[row + 1]) < BODY_MIN_CONFIDENCE
        if widens or unsure:
            return row
    return None


def _fill(mask: np.ndarray, points: np.ndarray, indices: list[int], origin: tuple[int, int]) -> None:
    polygon: np.ndarray = (points[indices] - np.array(origin, np.float32)).round().astype(np.int32)
    cv2.fillPoly(mask, [cv2.convexHull(polygon)], (1.0,), lineType=cv2.LINE_AA)


def _face_masks(
    shape: tuple[int, int], points: np.ndarray | None, face: _Detection
) -> tuple[np.ndarray, np.ndarray]:
    """Face and skin masks. Drawn in a box around the face only: full-image morphology on a
    2048 px photo would cost more than all three models together."""
    height, width = shape
    face_mask = np.zeros((height, width), np.float32)
    skin_mask = np.zeros((height, width), np.float32)
    x0, y0, x1, y1 = face.box
    face_size = max(x1 - x0, y1 - y0)
    margin = int(face_size * 0.6)
    if points is not None:
        lo = points.min(axis=0)
        hi = points.max(axis=0)
        x0, y0, x1, y1 = min(x0, lo[0]), min(y0, lo[1]), max(x1, hi[0]), max(y1, hi[1])
    bx0, by0 = max(0, int(x0) - margin), max(0, int(y0) - margin)
    bx1, by1 = min(width, int(x1) + margin), min(height, int(y1) + margin)
    if bx1 <= bx0 or by1 <= by0:
        return face_mask, skin_mask
    origin = (bx0, by0)
    local_face = face_mask[by0:by1, bx0:bx1]
    local_skin = skin_mask[by0:by1, bx0:bx1]
    if points is None:
        # Detector-only fallback: an ellipse over the box, and no retouching (no protect mask).
        centre = (int((x0 + x1) / 2) - bx0, int((y0 + y1) / 2 - 0.05 * face_size) - by0)
        axes = (int((x1 - x0) * 0.55), int((y1 - y0) * 0.65))
        cv2.ellipse(local_face, centre, axes, 0, 0, 360, (1.0,), -1, cv2.LINE_AA)
    else:
        _fill(local_face, points, FACE_OVAL, origin)
        protect = np.zeros_like(local_skin)
        for feature in (EYE_A, EYE_B, BROW_A, BROW_B, LIPS, NOSTRILS):
            _fill(protect, points, feature, origin)
        grow = max(3, int(face_size * 0.03)) | 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        protect = cv2.dilate(protect, kernel)
        # Eroded: stay off the face outline so the jaw and hairline keep their edge.
        local_skin[:] = cv2.erode(np.clip(local_face - protect, 0.0, 1.0), kernel)
    blur = max(3, int(face_size * 0.04)) | 1
    local_face[:] = cv2.GaussianBlur(local_face, (blur, blur), 0)
    local_skin[:] = cv2.GaussianBlur(local_skin, (blur, blur), 0)
    return face_mask, skin_mask


def analyse_face(photo: np.ndarray, settings: AnalysisSettings | None = None) -> FaceAnalysis:
    """Find exactly one usable face in an RGB uint8 photo and describe it.

    Raises:
        InputError(no_face): no face found.
        InputError(multiple_faces): a second face at least `second_face_ratio` of the main one.
        InputError(face_too_small): the face is below the minimum size.
    """
    settings = settings or AnalysisSettings()
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError("analyse_face expects an HxWx3 RGB uint8 array")
    height, width = photo.shape[:2]
    with _lock:
        models = _get_models()
        face = _choose_face(_detect_faces(models, photo, settings), height, settings)
        points = _mesh_landmarks(models, photo, face, settings)
        person_mask = _person_mask(models, photo, face, settings)

    x0, y0, x1, y1 = face.box
    if points is not None:
        eye_a = tuple(points[IRIS_A].tolist())
        eye_b = tuple(points[IRIS_B].tolist())
        if eye_a[0] > eye_b[0]:
            eye_a, eye_b = eye_b, eye_a
        mouth = tuple(((points[UPPER_LIP_INNER] + points[LOWER_LIP_INNER]) / 2).tolist())
        chin = tuple(points[CHIN].tolist())
        forehead = tuple(points[FOREHEAD].tolist())
    else:
        first, second = face.keypoints[0], face.keypoints[1]
        eye_a, eye_b = (first, second) if first[0] <= second[0] else (second, first)
        mouth = face.keypoints[3]
        chin = ((x0 + x1) / 2, y1)
        forehead = ((x0 + x1) / 2, y0)
    face_mask, skin_mask = _face_masks((height, width), points, face)
    head_top = _estimate_head_top(person_mask, forehead, chin, x1 - x0)  # type: ignore[arg-type]
    # The face is the person, whatever the segmenter thought (it sometimes drops pale skin).
    person_mask = np.maximum(person_mask, face_mask)
    # ... and only this person: other people's arms, tables and objects are not the subject.
    person_mask, body_end_y = _one_person(
        person_mask,
        face_mask,
        (float(x0), float(y0), float(x1), float(y1)),
        chin,  # type: ignore[arg-type]
    )
    return FaceAnalysis(
        width=width,
        height=height,
        face_box=(float(x0), float(y0), float(x1), float(y1)),
        eye_a=eye_a,  # type: ignore[arg-type]
        eye_b=eye_b,  # type: ignore[arg-type]
        mouth=mouth,  # type: ignore[arg-type]
        chin=chin,  # type: ignore[arg-type]
        forehead=forehead,  # type: ignore[arg-type]
        head_top=head_top,
        person_mask=person_mask,
        face_mask=face_mask,
        skin_mask=skin_mask,
        landmarks=points,
        detection_score=face.score,
        body_end_y=body_end_y,
    )
