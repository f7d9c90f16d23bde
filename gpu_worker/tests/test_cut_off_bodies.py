"""A body cut by the photo's edge ends the way a studio photographer would end it: the cut is
kept outside the frame (a tighter or off-centre crop), or the body fades out softly before
it. Never a hard line, never a smear."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.analysis import analyse_face
from gpu_worker.backends.studio import StudioRenderer
from gpu_worker.framing import Crop, compute_framing, subject_cuts, supported_size
from gpu_worker.styles import get_style
from gpu_worker.tests import everyday

STYLE = get_style("corporate-grey")


@pytest.mark.parametrize(("name", "edge"), [("cut_bottom", "bottom"), ("edge_left", "left")])
def test_the_photo_edge_that_cuts_the_body_shows_no_hard_line(name: str, edge: str) -> None:
    case = everyday.photo(name)
    analysis = analyse_face(case.pixels)
    assert getattr(subject_cuts(analysis), edge)
    for layer in StudioRenderer().render_layers(case.pixels, analysis, STYLE, 4, 3):
        framing = layer.framing
        left, _ = framing.to_output(0.0, 0.0)
        _, bottom = framing.to_output(float(framing.photo_width), float(framing.photo_height))
        if edge == "bottom" and bottom < framing.output_height - 2:
            strip = layer.alpha[int(bottom) - 3 : int(bottom)]
        elif edge == "left" and left > 2:
            strip = layer.alpha[:, int(left) + 1 : int(left) + 4]
        else:
            continue  # the cut lies outside this frame
        assert float(strip.max()) < 0.1, layer.plan


def test_a_body_cut_at_the_chest_gets_a_tighter_crop() -> None:
    case = everyday.photo("cut_bottom")
    analysis = analyse_face(case.pixels)
    size = supported_size(analysis, STYLE)
    free = compute_framing(analysis, STYLE, Crop.LOOSE, size=size)
    kept = compute_framing(analysis, STYLE, Crop.LOOSE, size=size, cut=subject_cuts(analysis))
    assert kept.scale > free.scale
    # The frame's bottom edge moved up towards the photo's, where it could.
    assert kept.crop_box[3] < free.crop_box[3]


def test_without_cuts_the_framing_is_centred_on_the_face() -> None:
    case = everyday.photo("twelve_megapixels")
    analysis = analyse_face(case.pixels)
    layer = StudioRenderer().render_layers(case.pixels, analysis, STYLE, 1, 3)[0]
    eye_x, _ = layer.framing.to_output(*analysis.eye_centre)
    assert abs(eye_x / layer.framing.output_width - 0.5) < 0.05
    assert np.isclose(
        layer.framing.scale,
        compute_framing(analysis, STYLE, size=(layer.frame.shape[1], layer.frame.shape[0])).scale,
    )
