"""The CPU studio backend: a real photographer's studio, simulated.

The person is cut out with a refined soft matte, lightly retouched and relit, then placed on
a painted studio backdrop (mottled canvas, lit centre, vignette, a soft cast shadow) and
colour graded. Everything expensive about the subject is computed once per job at output
resolution; the variants only differ in backdrop and grade, which are cheap, so a 4-portrait
job costs little more than a 1-portrait one.

All randomness comes from a generator seeded with (seed, variant), so a retried job gives
identical pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gpu_worker.analysis import FaceAnalysis
from gpu_worker.backends.base import RenderProgress, report
from gpu_worker.framing import Framing, compute_framing
from gpu_worker.schemas import Style


def hex_to_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' to float32 RGB in 0..1."""
    value = colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0


@dataclass(frozen=True)
class StudioSettings:
    """Look of the studio backend. Strengths are fractions; sizes are fractions of the width."""

    retouch_strength: float = 0.6  # 0 = none, 1 = fully smoothed skin (plastic)
    key_light: float = 0.10  # brightness difference across the subject, lit side vs far side
    colour_match: float = 0.10  # pull of the subject's colour towards the backdrop's
    shadow_strength: float = 0.22
    vignette: float = 0.28
    mottle: float = 0.05  # low-frequency canvas texture of the backdrop
    grain: float = 1.2 / 255.0  # film grain over the whole frame, unifies subject and backdrop


@dataclass
class _Subject:
    """Everything about the person that every variant shares, at output resolution."""

    colour: np.ndarray  # HxWx3 float32 0..1, decontaminated, retouched, relit
    alpha: np.ndarray  # HxW float32 matte
    shadow: np.ndarray  # HxW float32, soft cast shadow on the backdrop
    grain: np.ndarray  # HxW float32 unit noise
    framing: Framing


class StudioRenderer:
    """`Renderer` for the CPU: compositing on rendered backdrops. Stateless and thread-safe."""

    name = "studio"

    def __init__(self, settings: StudioSettings | None = None) -> None:
        self.settings = settings or StudioSettings()

    def render(
        self,
        photo: np.ndarray,
        analysis: FaceAnalysis,
        style: Style,
        variants: int,
        seed: int,
        progress: RenderProgress | None = None,
    ) -> list[np.ndarray]:
        """Render `variants` framed studio portraits (see `backends.base.Renderer.render`)."""
        framing = compute_framing(analysis, style)
        subject = self._prepare_subject(photo, analysis, style, framing, seed)
        report(progress, 0.5)
        frames = []
        for variant in range(variants):
            rng = np.random.default_rng([seed, variant, 1])
            frames.append(self._render_variant(subject, style, variant, rng))
            report(progress, 0.5 + 0.5 * (variant + 1) / variants)
        return frames

    # -- shared subject -------------------------------------------------------------------

    def _prepare_subject(
        self, photo: np.ndarray, analysis: FaceAnalysis, style: Style, framing: Framing, seed: int
    ) -> _Subject:
        height, width = framing.output_height, framing.output_width
        # Replicate at the photo's edges: a torso cut by the photo's bottom edge continues to
        # the frame's bottom instead of ending in a hard line floating on the backdrop.
        colour_u8 = framing.warp(photo, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        colour = colour_u8.astype(np.float32) * (1.0 / 255.0)
        person = framing.warp(analysis.person_mask, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        face = framing.warp(analysis.face_mask)
        skin = framing.warp(analysis.skin_mask)

        alpha = _refine_matte(colour, person, face)
        colour = _decontaminate(colour, alpha)
        colour = self._retouch(colour, skin, framing, analysis)
        colour = self._relight(colour, style)

        # The shadow: the matte, shifted away from the key light (upper left), very soft.
        small = cv2.resize(alpha, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
        shift = np.array([[1, 0, small.shape[1] * 0.035], [0, 1, small.shape[0] * 0.02]], np.float32)
        small = cv2.warpAffine(
            small, shift, (small.shape[1], small.shape[0]), borderMode=cv2.BORDER_REPLICATE
        )
        small = cv2.GaussianBlur(small, (0, 0), small.shape[1] * 0.035)
        shadow = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)

        grain = np.random.default_rng([seed, 0xF11]).standard_normal((height, width), dtype=np.float32)
        return _Subject(colour=colour, alpha=alpha, shadow=shadow, grain=grain, framing=framing)

    def _retouch(
        self, colour: np.ndarray, skin: np.ndarray, framing: Framing, analysis: FaceAnalysis
    ) -> np.ndarray:
        """Edge-preserving smoothing of the skin only; eyes, brows, lips and nostrils are
        outside the skin mask (face mesh), so they stay as sharp as the camera made them."""
        strength = self.settings.retouch_strength
        rows = np.nonzero(skin.max(axis=1) > 0.01)[0]
        cols = np.nonzero(skin.max(axis=0) > 0.01)[0]
        if strength <= 0 or rows.size == 0 or cols.size == 0:
            return colour
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        face_width = (analysis.face_box[2] - analysis.face_box[0]) * framing.scale
        radius = max(2, int(face_width * 0.02))
        region = colour[y0:y1, x0:x1]
        smooth = cv2.ximgproc.guidedFilter(region, region, radius, 0.0025)
        # Keep a little of the fine texture (pores) so skin reads as skin, not plastic.
        weight = (skin[y0:y1, x0:x1] * strength)[..., None]
        out = colour.copy()
        out[y0:y1, x0:x1] = region + weight * (smooth - region) * 0.85
        return out

    def _relight(self, colour: np.ndarray, style: Style) -> np.ndarray:
        """A gentle key light from the upper left, and a colour nudge towards the backdrop so
        the person looks lit in the same room rather than pasted in."""
        settings = self.settings
        height, width = colour.shape[:2]
        x = np.linspace(0.5, -0.5, width, dtype=np.float32)[None, :]
        y = np.linspace(0.35, -0.65, height, dtype=np.float32)[:, None]
        gain = 1.0 + settings.key_light * (0.7 * x + 0.3 * y)
        backdrop = np.mean([hex_to_rgb(c) for c in style.backdrop_colours], axis=0)
        tint = backdrop / max(float(backdrop.mean()), 1e-3)
        tint = 1.0 + settings.colour_match * (np.clip(tint, 0.6, 1.4) - 1.0)
        return colour * gain[..., None] * tint[None, None, :].astype(np.float32)

    # -- per variant ------------------------------------------------------------------------

    def _render_variant(
        self, subject: _Subject, style: Style, variant: int, rng: np.random.Generator
    ) -> np.ndarray:
        backdrop = self._backdrop(subject, style, variant, rng)
        alpha = subject.alpha[..., None]
        image = subject.colour * alpha + backdrop * (1.0 - alpha)
        image += subject.grain[..., None] * self.settings.grain
        frame = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return cv2.LUT(frame, _grade_lut(style, rng))

    def _backdrop(
        self, subject: _Subject, style: Style, variant: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Painted studio backdrop at 1/4 resolution (it is smooth), then upsampled."""
        settings = self.settings
        height, width = subject.alpha.shape
        small_h, small_w = height // 4, width // 4
        colours = [hex_to_rgb(c) for c in style.backdrop_colours]
        centre = colours[variant % len(colours)] * rng.uniform(0.96, 1.08)
        # Falloff towards a neighbouring colour of the palette, darker: variants differ in
        # both the lit colour and how fast and where the light falls off.
        edge = colours[(variant + 1 + int(rng.integers(0, 2))) % len(colours)] * rng.uniform(0.55, 0.8)

        # Lit spot behind the head, a little towards the key light, moved per variant.
        eye_x, eye_y = subject.framing.output_width * 0.5, subject.framing.output_height / 3
        side = (-1.0, 1.0, -0.4, 0.4, 0.0, -0.7, 0.7, 0.0)[variant % 8]
        centre_x = (eye_x / width + 0.14 * side + rng.uniform(-0.04, 0.04)) * small_w
        centre_y = (eye_y / height + rng.uniform(-0.08, 0.1)) * small_h
        yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
        radius = np.hypot((xx - centre_x) / small_w, (yy - centre_y) / small_h * (small_h / small_w))
        spread = rng.uniform(0.5, 0.95)
        t = np.clip(radius / spread, 0.0, 1.0)
        t = t * t * (3 - 2 * t)  # smoothstep: a soft falloff like a gridded strobe
        backdrop = centre[None, None, :] * (1 - t[..., None]) + edge[None, None, :] * t[..., None]

        # Mottled canvas: a few octaves of smooth noise, as hand-painted backdrops have.
        mottle = np.zeros((small_h, small_w), np.float32)
        for cells, amplitude in ((5, 1.0), (11, 0.5), (23, 0.25)):
            field = rng.standard_normal((cells, max(2, cells * small_w // small_h))).astype(np.float32)
            mottle += amplitude * cv2.resize(field, (small_w, small_h), interpolation=cv2.INTER_CUBIC)
        backdrop *= (1.0 + settings.mottle * mottle / 1.75)[..., None]

        vignette_strength = settings.vignette * rng.uniform(0.7, 1.2)
        corner = np.hypot((xx / small_w - 0.5) * 2, (yy / small_h - 0.45) * 2) / np.sqrt(2)
        backdrop *= (1.0 - vignette_strength * corner**2)[..., None]
        backdrop = cv2.resize(backdrop, (width, height), interpolation=cv2.INTER_LINEAR)

        shadow = subject.shadow * (settings.shadow_strength * rng.uniform(0.8, 1.2))
        return backdrop * (1.0 - shadow[..., None])


def _refine_matte(colour: np.ndarray, person: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Refine the coarse segmentation into a soft matte that follows the hair and shoulders.

    A colour-guided filter transfers edges from the photo into the mask (run at half
    resolution: the mask came from a 256 px model, so full resolution would add cost, not
    detail). Then the transition is tightened and lightly feathered.
    """
    height, width = person.shape
    half = (width // 2, height // 2)
    guide = cv2.resize(colour, half, interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(person, half, interpolation=cv2.INTER_AREA)
    refined = cv2.ximgproc.guidedFilter(guide, coarse, max(4, width // 100), 2e-4)
    refined = cv2.resize(refined, (width, height), interpolation=cv2.INTER_LINEAR)
    # The probabilities are wide and soft at the edge; biased inwards so no old background shows.
    alpha = np.clip((refined - 0.4) / 0.45, 0.0, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.8, width / 1024))
    # The face is always opaque, whatever the segmenter thought of pale skin or glasses.
    face_core = np.clip((face - 0.5) * 2.0, 0.0, 1.0)
    return np.maximum(alpha, face_core)


def _decontaminate(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Remove the old background's colour from semi-transparent edge pixels.

    At the matte's edge a pixel mixes person and old background; pasting it as is leaves a
    halo. The person's colour there is estimated from nearby opaque pixels (alpha-weighted
    blur), computed at half resolution since it only matters in the edge band.
    """
    height, width = alpha.shape
    half = (width // 2, height // 2)
    small_alpha = cv2.resize(alpha, half, interpolation=cv2.INTER_AREA)
    small_colour = cv2.resize(colour, half, interpolation=cv2.INTER_AREA)
    sigma = max(2.0, width / 256)
    weighted = cv2.GaussianBlur(small_colour * small_alpha[..., None], (0, 0), sigma)
    weight = cv2.GaussianBlur(small_alpha, (0, 0), sigma)
    estimate = weighted / np.maximum(weight, 1e-3)[..., None]
    estimate = cv2.resize(estimate, (width, height), interpolation=cv2.INTER_LINEAR)
    # Trust the photo where the matte is solid; the estimate where it is thin.
    trust = np.clip((alpha - 0.6) / 0.35, 0.0, 1.0)[..., None]
    return colour * trust + estimate * (1.0 - trust)


def _grade_lut(style: Style, rng: np.random.Generator) -> np.ndarray:
    """Per-channel 8-bit lookup table: contrast S-curve, warmth, a touch of black lift."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    contrast = rng.uniform(0.10, 0.28)
    s_curve = x * x * (3 - 2 * x)
    base = x + contrast * (s_curve - x)
    lift = rng.uniform(0.0, 0.025)
    base = lift + (1.0 - lift) * base
    warmth = float(np.clip(style.warmth + rng.uniform(-0.08, 0.08), -1.0, 1.0))
    gains = np.array([1.0 + 0.07 * warmth, 1.0 + 0.015 * warmth, 1.0 - 0.08 * warmth], np.float32)
    lut = np.clip(base[:, None] * gains[None, :] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return lut.reshape(256, 1, 3)


def load_studio_renderer() -> StudioRenderer:
    """Factory used by the pipeline (mirrors `load_diffusion_renderer`)."""
    return StudioRenderer()
