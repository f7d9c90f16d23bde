"""Built-in portrait styles, and the JSON form organisations use for their brand styles.

A style is data, shared by both backends: the studio renderer paints the backdrop from
`backdrop_colours` and grades with `warmth`; the diffusion backend reads the prompts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from gpu_worker.framing import ASPECTS
from gpu_worker.schemas import Backend, OutputFormat, Style

_NEGATIVE = (
    "cartoon, illustration, painting, 3d render, deformed, distorted face, extra fingers, "
    "blurry, out of focus, low quality, jpeg artifacts, watermark, text, logo, oversaturated"
)

BUILTIN_STYLES: dict[str, Style] = {
    style.slug: style
    for style in (
        Style(
            slug="corporate-grey",
            name="Corporate grey",
            description="The classic company-website headshot: soft grey studio backdrop, even light.",
            backdrop_colours=("#9a9da1", "#718093", "#948d85", "#62666c"),  # neutral, blue, warm, charcoal
            prompt=(
                "professional corporate headshot, seamless mottled grey studio backdrop, "
                "soft key light from the left, business attire, sharp focus, 85mm lens"
            ),
            negative_prompt=_NEGATIVE,
            headroom=0.15,
            warmth=0.0,
        ),
        Style(
            slug="studio-white",
            name="Studio white",
            description="Bright, clean high-key portrait on white, for directories and ID badges.",
            # All four are studio white (>= 245 at the frame's edges): neutral, cool, warm, soft.
            backdrop_colours=("#ffffff", "#f6f9fd", "#fdf8f1", "#f9f9f9"),
            prompt=(
                "high-key professional portrait, pure white seamless studio background, "
                "bright soft even lighting, clean, crisp, business casual"
            ),
            negative_prompt=_NEGATIVE + ", dark background, shadows on background",
            headroom=0.16,
            warmth=0.05,
        ),
        Style(
            slug="warm-office",
            name="Warm office",
            description="Approachable portrait with a warm, softly blurred office feel.",
            backdrop_colours=("#b59a7f", "#9c8068", "#c2a98c", "#8d735f"),
            prompt=(
                "friendly professional portrait in a modern office, warm window light, "
                "shallow depth of field, softly blurred warm interior background, smart casual"
            ),
            negative_prompt=_NEGATIVE + ", cold light, harsh shadows",
            headroom=0.16,
            warmth=0.35,
        ),
        Style(
            slug="outdoor-natural",
            name="Outdoor natural",
            description="Natural-light portrait with soft green and daylight tones.",
            backdrop_colours=("#8fa58a", "#6f8a6e", "#a3b49a", "#5f7a63"),
            prompt=(
                "natural light outdoor portrait, soft overcast daylight, blurred green park "
                "bokeh background, relaxed professional look"
            ),
            negative_prompt=_NEGATIVE + ", studio backdrop, flash",
            headroom=0.16,
            warmth=0.15,
        ),
        Style(
            slug="creative-dark",
            name="Creative dark",
            description="Moody low-key portrait on charcoal, for creative and leadership profiles.",
            backdrop_colours=("#3a3d42", "#1f2a3a", "#3b302b", "#2b2a2e"),  # charcoal, navy, umber, black
            prompt=(
                "low-key editorial portrait, dark charcoal textured studio backdrop, dramatic "
                "soft side light, subtle rim light, confident, magazine quality"
            ),
            negative_prompt=_NEGATIVE + ", bright background, flat lighting",
            headroom=0.14,
            warmth=-0.1,
        ),
    )
}


@dataclass(frozen=True)
class BackendNote:
    """What a generator backend does with a style, in words for the people choosing one.

    Shown wherever a style or attire is chosen (upload page, organisation brand style), so
    nobody expects a change the active backend cannot make.
    """

    name: str
    changes: str
    keeps: str
    attire: str


BACKEND_NOTES: dict[Backend, BackendNote] = {
    Backend.STUDIO: BackendNote(
        name="Studio compositing",
        changes="the backdrop, the framing, the light and the colour grade",
        keeps="your clothes, hair and face exactly as in your photo",
        attire=(
            "The attire setting has no effect with this generator: it cannot change clothes, "
            "so people are shown in what they wear in their photo."
        ),
    ),
    Backend.DIFFUSION: BackendNote(
        name="Generative repainting",
        changes="the backdrop, clothing and light, painted from the style (including the attire setting)",
        keeps="the face, copied unchanged from your photo",
        attire="The attire setting is used: clothing is repainted to match it.",
    ),
}


def backend_note(backend: Backend | str) -> BackendNote:
    """The note for `backend` (the setting PROPORTRAIT_BACKEND)."""
    return BACKEND_NOTES[Backend(backend)]


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def get_style(slug: str) -> Style:
    """The built-in style called `slug`; ValueError naming the valid slugs if there is none."""
    try:
        return BUILTIN_STYLES[slug]
    except KeyError:
        raise ValueError(f"unknown style {slug!r}; built-in styles are {', '.join(BUILTIN_STYLES)}") from None


def style_to_dict(style: Style) -> dict[str, Any]:
    """JSON-safe dict of a style (tuples become lists, enums their values)."""
    data = asdict(style)
    data["backdrop_colours"] = list(style.backdrop_colours)
    data["output_format"] = str(style.output_format.value)
    return data


def style_from_dict(data: dict[str, Any]) -> Style:
    """Build and validate a style from its JSON form (an organisation's brand style).

    Unknown keys are refused rather than ignored, so a typo does not silently fall back to a
    default. Raises ValueError saying what to fix.
    """
    known = {field.name for field in fields(Style)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown style fields: {', '.join(sorted(unknown))}")
    missing = {"slug", "name", "description", "backdrop_colours", "prompt"} - set(data)
    if missing:
        raise ValueError(f"missing style fields: {', '.join(sorted(missing))}")
    values = dict(data)
    values["backdrop_colours"] = tuple(values["backdrop_colours"])
    if "output_format" in values:
        try:
            values["output_format"] = OutputFormat(str(values["output_format"]).lower())
        except ValueError:
            raise ValueError(
                f"output_format must be one of {', '.join(f.value for f in OutputFormat)}"
            ) from None
    style = Style(**values)
    _validate(style)
    return style


def _validate(style: Style) -> None:
    if not _SLUG.match(style.slug):
        raise ValueError("slug must be lowercase letters, digits and single hyphens")
    if not style.name.strip():
        raise ValueError("name must not be empty")
    if not 1 <= len(style.backdrop_colours) <= 8:
        raise ValueError("backdrop_colours needs 1 to 8 colours")
    for colour in style.backdrop_colours:
        if not isinstance(colour, str) or not _COLOUR.match(colour):
            raise ValueError(f"backdrop colour {colour!r} is not of the form #rrggbb")
    if style.aspect not in ASPECTS:
        raise ValueError(f"aspect must be one of {', '.join(ASPECTS)}")
    if not 0.0 <= style.headroom <= 0.3:
        raise ValueError("headroom must be between 0 and 0.3 of the frame height")
    if not -1.0 <= style.warmth <= 1.0:
        raise ValueError("warmth must be between -1 and 1")
    if not 256 <= style.output_long_side <= 4096:
        raise ValueError("output_long_side must be between 256 and 4096 pixels")


for _style in BUILTIN_STYLES.values():
    _validate(_style)
