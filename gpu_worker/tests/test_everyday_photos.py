"""Every portrait from the everyday-photo corpus passes the automatic checks.

For each case (subject at the edge, cut off, objects in front, someone else's arm, small
crops, a busy room, 12 MP) and every variant:
- no stretched or replicated regions;
- the subject is one connected region, around the face;
- outside the subject's matte the output is exactly the painted backdrop;
- where the photo has no data, there is only backdrop (nothing copied in);
- no frame enlarges the photo more than MAX_UPSCALE;
- the known not-subject parts (other people, objects beside the person) are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from gpu_worker.analysis import FaceAnalysis, analyse_face
from gpu_worker.backends.studio import StudioRenderer, VariantLayers
from gpu_worker.errors import InputError
from gpu_worker.framing import MAX_UPSCALE
from gpu_worker.styles import get_style
from gpu_worker.tests import checks, everyday

MADE = [name for name in everyday.CASES if not everyday.photo(name).refused]
REFUSED = [name for name in everyday.CASES if everyday.photo(name).refused]
# A finished portrait may have at most this share of streak-like pixels (clothing folds and
# hair can look like short streaks; copied edge pixels cover percents of the frame).
MAX_STREAK_FRACTION = 0.002


@dataclass
class Rendered:
    case: everyday.EverydayPhoto
    analysis: FaceAnalysis
    layers: list[VariantLayers]


_rendered: dict[str, Rendered] = {}


def _render(name: str) -> Rendered:
    if name not in _rendered:
        case = everyday.photo(name)
        analysis = analyse_face(case.pixels)
        layers = StudioRenderer().render_layers(
            case.pixels, analysis, get_style("corporate-grey"), 4, 11, with_backdrop=True
        )
        _rendered[name] = Rendered(case, analysis, layers)
    return _rendered[name]


@pytest.mark.parametrize("name", MADE)
def test_it_never_stretches_or_replicates_pixels(name: str) -> None:
    for layer in _render(name).layers:
        assert checks.streak_fraction(layer.frame) < MAX_STREAK_FRACTION, layer.plan


@pytest.mark.parametrize("name", MADE)
def test_it_never_enlarges_the_photo_past_the_documented_limit(name: str) -> None:
    for layer in _render(name).layers:
        assert layer.framing.scale <= MAX_UPSCALE + 1e-9, layer.plan


@pytest.mark.parametrize("name", MADE)
def test_it_paints_only_backdrop_where_the_photo_has_no_data(name: str) -> None:
    for layer in _render(name).layers:
        outside = layer.framing.valid_mask() == 0.0
        assert float(layer.alpha[outside].max(initial=0.0)) == 0.0


@pytest.mark.parametrize("name", MADE)
def test_the_subject_is_one_connected_region_around_the_face(name: str) -> None:
    rendered = _render(name)
    for layer in rendered.layers:
        count, labels = checks.subject_regions(layer.alpha)
        assert count == 1, f"{layer.plan}: {count} separate regions"
        eye_x, eye_y = layer.framing.to_output(*rendered.analysis.eye_centre)
        face_label = labels[int(eye_y), int(eye_x)]
        assert face_label > 0
        # All but a trace of the subject's matte belongs to (or fringes) that one region.
        region = cv2.dilate((labels == face_label).astype(np.uint8), np.ones((3, 3), np.uint8))
        stray = float(layer.alpha[region == 0].sum())
        assert stray < 0.001 * float(layer.alpha.sum()), f"{layer.plan}: stray matte {stray:.0f}"


@pytest.mark.parametrize("name", MADE)
def test_outside_the_subject_the_output_is_the_painted_backdrop(name: str) -> None:
    for layer in _render(name).layers:
        assert layer.backdrop is not None
        outside = layer.alpha == 0.0
        assert outside.mean() > 0.15  # the backdrop is a real part of the portrait
        difference = np.abs(layer.frame.astype(np.int16) - layer.backdrop)[outside]
        assert int(difference.max()) == 0


@pytest.mark.parametrize("name", MADE)
def test_other_people_and_objects_beside_the_person_are_left_out(name: str) -> None:
    rendered = _render(name)
    if not rendered.case.not_subject.any():
        pytest.skip("this case has no known not-subject region")
    for layer in rendered.layers:
        not_subject = layer.framing.warp(rendered.case.not_subject.astype(np.float32)) > 0.99
        if not not_subject.any():
            continue  # the framing already crops it out
        assert float(layer.alpha[not_subject].max()) < 0.05, layer.plan


@pytest.mark.parametrize("name", REFUSED)
def test_too_small_photos_are_refused_with_their_code(name: str) -> None:
    case = everyday.photo(name)
    with pytest.raises(InputError) as caught:
        StudioRenderer().render(case.pixels, analyse_face(case.pixels), get_style("corporate-grey"), 4, 1)
    assert caught.value.code == case.refused
