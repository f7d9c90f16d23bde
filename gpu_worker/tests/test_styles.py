"""Built-in and brand styles round-trip through JSON and are validated."""

from __future__ import annotations

import json

import pytest

from gpu_worker.styles import BUILTIN_STYLES, get_style, style_from_dict, style_to_dict


def test_the_builtin_styles_exist_and_round_trip_through_json() -> None:
    for slug in ("corporate-grey", "studio-white", "warm-office", "outdoor-natural", "creative-dark"):
        style = get_style(slug)
        assert style.prompt and style.negative_prompt and style.description
        assert style_from_dict(json.loads(json.dumps(style_to_dict(style)))) == style
    assert len(BUILTIN_STYLES) >= 5


def test_an_unknown_slug_says_which_exist() -> None:
    with pytest.raises(ValueError, match="corporate-grey"):
        get_style("vaporwave")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"backdrop_colours": ["red"]}, "#rrggbb"),
        ({"aspect": "16:9"}, "aspect"),
        ({"colour": "#ffffff"}, "unknown style fields"),
        ({"output_format": "gif"}, "output_format"),
        ({"slug": "Brand Style"}, "slug"),
    ],
)
def test_brand_styles_are_validated(change, message) -> None:  # type: ignore[no-untyped-def]
    data = style_to_dict(get_style("corporate-grey")) | {"slug": "acme-blue"} | change
    with pytest.raises(ValueError, match=message):
        style_from_dict(data)


def test_a_brand_style_from_json() -> None:
    data = {
        "slug": "acme-blue",
        "name": "Acme blue",
        "description": "Acme's brand backdrop",
        "backdrop_colours": ["#1f4e8c", "#173d6e"],
        "prompt": "portrait on a deep blue backdrop",
        "aspect": "1:1",
        "output_format": "png",
    }
    style = style_from_dict(data)
    assert style.backdrop_colours == ("#1f4e8c", "#173d6e") and style.output_format.value == "png"
