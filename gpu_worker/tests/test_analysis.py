"""Exactly one usable face is required; the analysis finds its features where they are."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.analysis import analyse_face
from gpu_worker.decode import decode_photo
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.tests import corpus


def test_it_finds_the_astronauts_face_and_features() -> None:
    analysis = analyse_face(corpus.astronaut())
    x0, y0, x1, y1 = analysis.face_box
    # The face in skimage's astronaut sits around x 170..280, y 60..180 (512x512).
    assert 150 < x0 < 200 and 250 < x1 < 300 and 40 < y0 < 100 and 150 < y1 < 200
    assert analysis.eye_a[0] < analysis.eye_b[0]
    assert (
        analysis.head_top[1] < analysis.forehead[1] < analysis.eye_a[1] < analysis.mouth[1] < analysis.chin[1]
    )
    assert analysis.person_mask.shape == (512, 512) and analysis.person_mask.dtype == np.float32
    # Skin mask: on the cheeks, not on the eyes or the mouth.
    assert analysis.skin_mask[round(analysis.eye_a[1]), round(analysis.eye_a[0])] < 0.2
    assert analysis.skin_mask[round(analysis.mouth[1]), round(analysis.mouth[0])] < 0.2
    assert analysis.skin_mask.max() > 0.9
    assert "landmarks" not in repr(analysis) and str(analysis.face_box[0]) not in repr(analysis)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (corpus.no_face, ErrorCode.NO_FACE),
        (corpus.two_faces, ErrorCode.MULTIPLE_FACES),
        (corpus.tiny_face, ErrorCode.FACE_TOO_SMALL),
    ],
)
def test_it_refuses_photos_without_exactly_one_usable_face(make, code, limits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        analyse_face(decode_photo(make(), limits))
    assert caught.value.code == code


def test_a_plain_gradient_has_no_face() -> None:
    gradient = np.linspace(0, 255, 640 * 480 * 3).reshape(480, 640, 3).astype(np.uint8)
    with pytest.raises(InputError) as caught:
        analyse_face(gradient)
    assert caught.value.code == ErrorCode.NO_FACE


def test_the_face_is_found_after_exif_rotation(limits) -> None:  # type: ignore[no-untyped-def]
    for orientation in (6, 8):
        analysis = analyse_face(decode_photo(corpus.rotated_jpeg(orientation), limits))
        # Upright: the eyes are level and above the mouth.
        assert abs(analysis.eye_a[1] - analysis.eye_b[1]) < 0.25 * analysis.eye_distance
        assert analysis.eye_a[1] < analysis.mouth[1]
