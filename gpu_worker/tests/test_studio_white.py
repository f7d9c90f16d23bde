"""Studio white is white: every variant's backdrop is at least 245 of 255 at the frame's edges."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.analysis import analyse_face
from gpu_worker.backends.studio import StudioRenderer, is_high_key
from gpu_worker.styles import get_style
from gpu_worker.tests import everyday

WHITE_AT_EDGES = 245


@pytest.mark.parametrize("name", ["twelve_megapixels", "busy_room", "cut_bottom"])
def test_studio_white_is_white_at_the_edges(name: str) -> None:
    case = everyday.photo(name)
    layers = StudioRenderer().render_layers(
        case.pixels, analyse_face(case.pixels), get_style("studio-white"), 4, 9
    )
    for layer in layers:
        height, width = layer.alpha.shape
        edges = np.zeros((height, width), bool)
        band = max(4, width // 50)
        edges[:band] = edges[:, :band] = edges[:, -band:] = True
        edges[-band:] = True
        backdrop = edges & (layer.alpha == 0.0)  # where the person does not reach the edge
        assert backdrop.mean() > 0.02
        pixels = layer.frame[backdrop]
        assert int(pixels.min()) >= WHITE_AT_EDGES, layer.plan
        # The top corners too, explicitly (they were mid-grey before).
        for corner in (layer.frame[:band, :band], layer.frame[:band, -band:]):
            assert int(corner.min()) >= WHITE_AT_EDGES


def test_every_studio_white_tone_is_high_key() -> None:
    assert all(is_high_key(colour) for colour in get_style("studio-white").backdrop_colours)


def test_darker_styles_keep_their_falloff() -> None:
    case = everyday.photo("twelve_megapixels")
    frame = StudioRenderer().render(
        case.pixels, analyse_face(case.pixels), get_style("corporate-grey"), 1, 9
    )[0]
    corner = frame[:20, :20].astype(np.float32).mean()
    lit = frame[frame.shape[0] // 6, frame.shape[1] // 8 : frame.shape[1] // 5].astype(np.float32).mean()
    assert corner < 200 and lit > corner  # studio paper: lit behind the subject, falling off
