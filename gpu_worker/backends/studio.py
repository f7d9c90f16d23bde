"""The CPU studio backend: a real photographer's studio, simulated.

What it does to a photo, in order:
1. Frames the person four ways (close-up, head-and-shoulders, looser), each within the photo's
   own data: where the frame reaches past the photo only backdrop is painted, and a body cut
   by the photo's edge is kept outside the frame or faded, never filled with copied pixels
   (`gpu_worker.framing`).
2. Cuts the person out once per job, on a "master" crop that covers every framing: the
   segmentation edge becomes a trimap band, alpha is estimated inside the band from local
   foreground/background colour models, regularised by a colour-guided filter, and the old
   background's colour is removed from the band's pixels (decontamination). Outside the band
   the matte is exactly 0 or 1, so nothing of the old background survives as a faint strip.
3. Neutralises the subject's colour cast (grey-edge estimate) and gently retouches skin.
4. Per variant: one compositing pass over shared precomputed layers: the subject and matte
   warped into the frame, a key light from one side at the variant's ratio, and a painted
   studio-paper backdrop (lit spot, falloff, sweep; high-key styles stay white at the edges),
   then film grain and the style's colour grade.

All randomness comes from generators seeded with (seed, variant), so a retried job gives
identical pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gpu_worker.analysis import FaceAnalysis
from gpu_worker.backends.base import RenderProgress, report
from gpu_worker.framing import (
    MAX_UPSCALE,
    Crop,
    CutEdges,
    Framing,
    compute_framing,
    subject_cuts,
    supported_size,
)
from gpu_worker.schemas import Style

# A backdrop colour this light (every channel) is high-key "studio white": painted blown out,
# at least HIGH_KEY_FLOOR at the frame's edges, with no vignette and no grain on the paper.
HIGH_KEY_CHANNEL_MIN = 0.93
HIGH_KEY_FLOOR = 0.975  # 249 of 255 before the grade; >= 245 after it (tested)


def hex_to_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' to float32 RGB in 0..1."""
    value = colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0


def is_high_key(colour: str) -> bool:
    """Whether a backdrop colour is studio white (painted blown out)."""
    return bool(hex_to_rgb(colour).min() >= HIGH_KEY_CHANNEL_MIN)


@dataclass(frozen=True)
class VariantPlan:
    """The choices that make one portrait of a job different from the others.

    Attributes:
        crop: how much of the person the frame shows.
        light_side: -1 key light from the frame's left, +1 from its right.
        light_ratio: brightness difference between the lit and the shadow side of the subject.
        tone: index into the style's backdrop colours.
        off_centre: where the face sits across the frame (fraction of its width, + right):
            off-centre crops leave room on the side the face turns to, and keep crops apart
            when a small photo leaves no room to zoom.
    """

    crop: Crop
    light_side: float
    light_ratio: float
    tone: int
    off_centre: float = 0.0


# Four (and up to eight) distinct portraits: every pair differs in at least two of crop, light
# side and backdrop tone. The mean pairwise difference this gives is tested (test_variety).
VARIANT_PLANS: tuple[VariantPlan, ...] = (
    VariantPlan(Crop.HEAD_AND_SHOULDERS, -1.0, 0.20, 0, 0.0),
    VariantPlan(Crop.CLOSE_UP, 1.0, 0.34, 1, -0.07),
    VariantPlan(Crop.LOOSE, -1.0, 0.12, 2, 0.07),
    VariantPlan(Crop.HEAD_AND_SHOULDERS, 1.0, 0.44, 3, 0.0),
    VariantPlan(Crop.CLOSE_UP, -1.0, 0.16, 2, 0.07),
    VariantPlan(Crop.LOOSE, 1.0, 0.26, 3, -0.07),
    VariantPlan(Crop.HEAD_AND_SHOULDERS, -1.0, 0.30, 1, 0.0),
    VariantPlan(Crop.CLOSE_UP, 1.0, 0.10, 0, 0.0),
)


@dataclass(frozen=True)
class StudioSettings:
    """Look of the studio backend. Strengths are fractions; sizes are fractions of the width."""

    retouch_strength: float = 0.6  # 0 = none, 1 = fully smoothed skin (plastic)
    cast_neutralisation: float = 0.85  # 0 = keep the photo's colour cast, 1 = fully neutral
    shadow_strength: float = 0.18
    vignette: float = 0.22
    mottle: float = 0.02  # low-frequency texture of the paper
    grain: float = 1.2 / 255.0  # film grain, unifies subject and backdrop
    # Fade over which a body cut by the photo's edge inside the frame ends (fraction of width).
    cut_fade: float = 0.10
    # Master layers are capped at this many pixels, or 1.4x the output's if that is more (the
    # cost of the matte grows with them; beyond that they add no detail the output can show).
    master_max_pixels: int = 1_600_000


@dataclass
class _Master:
    """The person, once per job, on a crop of the photo covering every variant's frame."""

    colour: np.ndarray  # HxWx3 float32 0..1: decontaminated, cast-neutralised, retouched
    alpha: np.ndarray  # HxW float32 matte
    origin_x: float  # photo coordinates of the master's top-left corner
    origin_y: float
    scale: float  # master pixels per photo pixel


@dataclass
class VariantLayers:
    """One rendered variant and the layers it was composited from (for checks and tests).

    Attributes:
        frame: the portrait, HxWx3 uint8.
        alpha: the subject's matte in the frame, HxW float32 (0 = only backdrop there).
        backdrop: the same frame with no subject at all (only computed on request).
        framing: where the frame sits in the photo.
        plan: the variant's choices.
    """

    frame: np.ndarray
    alpha: np.ndarray
    backdrop: np.ndarray | None
    framing: Framing
    plan: VariantPlan


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
        """Render `variants` framed studio portraits (see `backends.base.Renderer.render`).

        The output size is the style's, or smaller where the photo has fewer pixels
        (`framing.supported_size`; InputError photo_too_small below the minimum).
        """
        layers = self.render_layers(photo, analysis, style, variants, seed, progress=progress)
        return [layer.frame for layer in layers]

    def render_layers(
        self,
        photo: np.ndarray,
        analysis: FaceAnalysis,
        style: Style,
        variants: int,
        seed: int,
        progress: RenderProgress | None = None,
        with_backdrop: bool = False,
    ) -> list[VariantLayers]:
        """`render`, keeping each variant's matte (and with `with_backdrop`, the subject-free
        frame) so the output can be checked against what was painted."""
        # 1. Frame every variant within the photo's data, at the size the photo supports.
        size = supported_size(analysis, style)
        cut = subject_cuts(analysis)
        plans = [VARIANT_PLANS[variant % len(VARIANT_PLANS)] for variant in range(variants)]
        framings = [
            compute_framing(
                analysis,
                style,
                plan.crop,
                size=size,
                cut=cut,
                max_scale=MAX_UPSCALE,
                off_centre=plan.off_centre,
            )
            for plan in plans
        ]
        # 2. Cut the person out once, on a master crop covering every frame.
        master = self._prepare_master(photo, analysis, framings)
        report(progress, 0.5)
        # 3. Composite each variant.
        width, height = size
        grain = np.random.default_rng([seed, 0xF11]).standard_normal((height, width), dtype=np.float32)
        grain *= self.settings.grain
        layers = []
        for variant, (plan, framing) in enumerate(zip(plans, framings, strict=True)):
            rng = np.random.default_rng([seed, variant, 1])
            layers.append(
                self._render_variant(master, analysis, style, framing, plan, cut, grain, rng, with_backdrop)
            )
            report(progress, 0.5 + 0.5 * (variant + 1) / variants)
        return layers

    # -- once per job -------------------------------------------------------------------------

    def _prepare_master(self, photo: np.ndarray, analysis: FaceAnalysis, framings: list[Framing]) -> _Master:
        photo_h, photo_w = photo.shape[:2]
        boxes = np.array([framing.crop_box for framing in framings])
        x0 = int(max(0, np.floor(boxes[:, 0].min()) - 2))
        y0 = int(max(0, np.floor(boxes[:, 1].min()) - 2))
        x1 = int(min(photo_w, np.ceil(boxes[:, 2].max()) + 2))
        y1 = int(min(photo_h, np.ceil(boxes[:, 3].max()) + 2))
        if x1 - x0 < 8 or y1 - y0 < 8:  # the frames miss the photo: nothing but backdrop
            x0, y0, x1, y1 = 0, 0, photo_w, photo_h
        scale = min(1.0, max(framing.scale for framing in framings))
        output_pixels = framings[0].output_width * framings[0].output_height
        max_pixels = max(self.settings.master_max_pixels, 1.4 * output_pixels)
        scale = min(scale, float(np.sqrt(max_pixels / ((x1 - x0) * (y1 - y0)))))
        size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))

        def crop(image: np.ndarray) -> np.ndarray:
            region = image[y0:y1, x0:x1]
            if size == (x1 - x0, y1 - y0):
                return np.ascontiguousarray(region)
            return cv2.resize(region, size, interpolation=cv2.INTER_AREA)

        colour = crop(photo).astype(np.float32) * (1.0 / 255.0)
        person = crop(analysis.person_mask)
        face = crop(analysis.face_mask)
        skin = crop(analysis.skin_mask)
        face_width = (analysis.face_box[2] - analysis.face_box[0]) * scale

        alpha, colour = estimate_matte(colour, person, face)
        colour = neutralise_cast(colour, alpha, self.settings.cast_neutralisation)
        colour = self._retouch(colour, skin, face_width)
        return _Master(colour=colour, alpha=alpha, origin_x=x0, origin_y=y0, scale=size[0] / (x1 - x0))

    def _retouch(self, colour: np.ndarray, skin: np.ndarray, face_width: float) -> np.ndarray:
        """Edge-preserving smoothing of the skin only; eyes, brows, lips and nostrils are
        outside the skin mask (face mesh), so they stay as sharp as the camera made them."""
        strength = self.settings.retouch_strength
        rows = np.nonzero(skin.max(axis=1) > 0.01)[0]
        cols = np.nonzero(skin.max(axis=0) > 0.01)[0]
        if strength <= 0 or rows.size == 0 or cols.size == 0:
            return colour
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        radius = max(2, int(face_width * 0.02))
        region = colour[y0:y1, x0:x1]
        smooth = cv2.ximgproc.guidedFilter(region, region, radius, 0.0025)
        # Keep a little of the fine texture (pores) so skin reads as skin, not plastic.
        weight = (skin[y0:y1, x0:x1] * strength)[..., None]
        colour[y0:y1, x0:x1] = region + weight * (smooth - region) * 0.85
        return colour

    # -- per variant --------------------------------------------------------------------------

    def _render_variant(
        self,
        master: _Master,
        analysis: FaceAnalysis,
        style: Style,
        framing: Framing,
        plan: VariantPlan,
        cut: CutEdges,
        grain: np.ndarray,
        rng: np.random.Generator,
        with_backdrop: bool,
    ) -> VariantLayers:
        colour, alpha = _warp_master(master, framing)
        alpha *= _cut_fade(framing, cut, self.settings.cut_fade)
        colours = style.backdrop_colours
        tone = colours[plan.tone % len(colours)]
        high_key = is_high_key(tone)

        backdrop = self._backdrop(framing, colours, plan, high_key, rng)
        shadow = _soft_shadow(alpha, plan.light_side) * (
            self.settings.shadow_strength * (0.35 if high_key else 1.0) * rng.uniform(0.8, 1.2)
        )
        backdrop *= (1.0 - shadow)[..., None]
        if high_key:  # a trace of shadow near the person; the paper stays white
            np.maximum(backdrop, HIGH_KEY_FLOOR, out=backdrop)
        light = _key_light(framing, analysis, plan)
        lut = _grade_lut(style, rng)

        frame = _composite(colour * light[..., None], alpha, backdrop, grain, high_key, lut)
        backdrop_frame = None
        if with_backdrop:
            backdrop_frame = _composite(colour, np.zeros_like(alpha), backdrop, grain, high_key, lut)
        return VariantLayers(frame=frame, alpha=alpha, backdrop=backdrop_frame, framing=framing, plan=plan)

    def _backdrop(
        self,
        framing: Framing,
        colours: tuple[str, ...],
        plan: VariantPlan,
        high_key: bool,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Seamless studio paper, painted at 1/4 resolution (it is smooth), then upsampled.

        A lit spot behind the head towards the key light, a smooth falloff to a darker edge
        tone, a slight sweep towards the floor and a faint paper texture. High-key paper is
        lit to white: its darkest edge stays at HIGH_KEY_FLOOR.
        """
        settings = self.settings
        width, height = framing.output_width, framing.output_height
        small_w, small_h = max(2, width // 4), max(2, height // 4)
        centre = hex_to_rgb(colours[plan.tone % len(colours)])
        yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
        u, v = xx / small_w, yy / small_h
        spot_x = 0.5 + 0.16 * plan.light_side + rng.uniform(-0.04, 0.04)
        spot_y = 0.30 + rng.uniform(-0.05, 0.05)
        radius = np.hypot(u - spot_x, (v - spot_y) * small_h / small_w)
        t = np.clip(radius / rng.uniform(0.7, 1.0), 0.0, 1.0)
        t = t * t * (3 - 2 * t)  # smoothstep: a soft falloff like a gridded strobe
        if high_key:
            # Blown-out white: a trace of the tone's tint at the edges, never grey.
            lit = np.ones(3, np.float32)
            edge = np.maximum(centre, HIGH_KEY_FLOOR + 0.005)
            paper = lit[None, None, :] * (1 - t[..., None]) + edge[None, None, :] * t[..., None]
            return cv2.resize(
                np.maximum(paper, HIGH_KEY_FLOOR), (width, height), interpolation=cv2.INTER_LINEAR
            )

        lit = centre * rng.uniform(1.02, 1.12)
        neighbour = hex_to_rgb(colours[(plan.tone + 1) % len(colours)])
        edge = (0.7 * centre + 0.3 * neighbour) * rng.uniform(0.55, 0.75)
        paper = lit[None, None, :] * (1 - t[..., None]) + edge[None, None, :] * t[..., None]
        # The sweep: paper curving towards the floor catches a little less light.
        paper *= (1.0 - 0.06 * np.clip((v - 0.6) / 0.4, 0.0, 1.0))[..., None]
        texture = np.zeros((small_h, small_w), np.float32)
        for cells, amplitude in ((4, 1.0), (9, 0.5), (19, 0.25)):
            noise = rng.standard_normal((cells, max(2, cells * small_w // small_h))).astype(np.float32)
            texture += amplitude * cv2.resize(noise, (small_w, small_h), interpolation=cv2.INTER_CUBIC)
        paper *= (1.0 + settings.mottle * texture / 1.75)[..., None]
        corner = np.hypot((u - 0.5) * 2, (v - 0.45) * 2) / np.sqrt(2)
        paper *= (1.0 - settings.vignette * rng.uniform(0.7, 1.2) * corner**2)[..., None]
        return cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)


def _warp_master(master: _Master, framing: Framing) -> tuple[np.ndarray, np.ndarray]:
    """The master's colour and matte in `framing`'s frame (zeros outside the photo's data)."""
    ratio = framing.scale / master.scale  # output pixels per master pixel
    colour, alpha = master.colour, master.alpha
    shift_x = (master.origin_x - framing.offset_x) * framing.scale
    shift_y = (master.origin_y - framing.offset_y) * framing.scale
    if ratio < 0.75:
        # Shrink with an area filter first: warpAffine alone aliases hair and fabric.
        small = (max(1, round(colour.shape[1] * ratio)), max(1, round(colour.shape[0] * ratio)))
        sx, sy = small[0] / colour.shape[1], small[1] / colour.shape[0]
        colour = cv2.resize(colour, small, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, small, interpolation=cv2.INTER_AREA)
        matrix = np.array([[ratio / sx, 0.0, shift_x], [0.0, ratio / sy, shift_y]], np.float64)
    else:
        matrix = np.array([[ratio, 0.0, shift_x], [0.0, ratio, shift_y]], np.float64)
    size = (framing.output_width, framing.output_height)
    warped_colour = cv2.warpAffine(
        colour, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    warped_alpha = cv2.warpAffine(alpha, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return warped_colour, warped_alpha


def _cut_fade(framing: Framing, cut: CutEdges, fade_fraction: float) -> np.ndarray:
    """Multiplier for the matte that fades the body out towards a photo edge that cuts it
    inside the frame (a soft vignette instead of a hard line or a smear)."""
    width, height = framing.output_width, framing.output_height
    left, top = framing.to_output(0.0, 0.0)
    right, bottom = framing.to_output(float(framing.photo_width), float(framing.photo_height))
    fade = max(2.0, fade_fraction * width)
    xs = np.arange(width, dtype=np.float32) + 0.5
    ys = np.arange(height, dtype=np.float32) + 0.5
    ramp_x = np.ones(width, np.float32)
    ramp_y = np.ones(height, np.float32)
    if cut.left and left > 0.5:
        ramp_x *= np.clip((xs - left) / fade, 0.0, 1.0)
    if cut.right and right < width - 0.5:
        ramp_x *= np.clip((right - xs) / fade, 0.0, 1.0)
    if cut.top and top > 0.5:
        ramp_y *= np.clip((ys - top) / fade, 0.0, 1.0)
    if cut.bottom and bottom < height - 0.5:
        ramp_y *= np.clip((bottom - ys) / fade, 0.0, 1.0)
    ramp_x, ramp_y = ramp_x * ramp_x * (3 - 2 * ramp_x), ramp_y * ramp_y * (3 - 2 * ramp_y)
    return ramp_y[:, None] * ramp_x[None, :]


def _soft_shadow(alpha: np.ndarray, light_side: float) -> np.ndarray:
    """The matte, shifted away from the key light and blurred: the subject's shadow on the paper."""
    height, width = alpha.shape
    small = cv2.resize(alpha, (max(2, width // 8), max(2, height // 8)), interpolation=cv2.INTER_AREA)
    shift = np.array([[1, 0, -light_side * small.shape[1] * 0.04], [0, 1, small.shape[0] * 0.02]], np.float32)
    small = cv2.warpAffine(small, shift, (small.shape[1], small.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, small.shape[1] * 0.05))
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _key_light(framing: Framing, analysis: FaceAnalysis, plan: VariantPlan) -> np.ndarray:
    """Brightness gain over the subject: lit from `plan.light_side`, falling off across the
    face over about one face width (the ratio of a key and a fill light)."""
    width, height = framing.output_width, framing.output_height
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    centre_x, centre_y = framing.to_output(*analysis.eye_centre)
    face_width = max(1.0, (analysis.face_box[2] - analysis.face_box[0]) * framing.scale)
    xs = (np.arange(small_w, dtype=np.float32) + 0.5) * (width / small_w)
    ys = (np.arange(small_h, dtype=np.float32) + 0.5) * (height / small_h)
    across = np.tanh(plan.light_side * (xs - centre_x) / face_width)[None, :]
    down = np.clip((ys - centre_y) / (4.0 * face_width), 0.0, 1.0)[:, None]
    gain = 1.0 + plan.light_ratio * 0.5 * across - 0.08 * down
    return cv2.resize(gain.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _composite(
    colour: np.ndarray,
    alpha: np.ndarray,
    backdrop: np.ndarray,
    grain: np.ndarray,
    high_key: bool,
    lut: np.ndarray,
) -> np.ndarray:
    """backdrop + alpha * (subject - backdrop), grain, 8-bit, graded: one pass per variant."""
    image: np.ndarray = cv2.subtract(colour, backdrop)
    image *= alpha[..., None]
    image += backdrop
    # High-key paper stays clean white: grain only where the subject is.
    noise = grain * alpha if high_key else grain
    image += noise[..., None]
    frame = cv2.convertScaleAbs(image, alpha=255.0, beta=0.5)
    return cv2.LUT(frame, lut)


def estimate_matte(
    colour: np.ndarray,
    person: np.ndarray,
    face: np.ndarray,
    band_fraction: float = 0.012,
    separation_scale: float = 0.03,
    regularise_eps: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha matte and decontaminated colour from a coarse segmentation (trimap-band matting).

    1. Trimap: the segmentation's 0.5 contour widened to a band of ~1.2% of the height each
       side; inside it is sure foreground (alpha 1), outside sure background (alpha 0).
    2. In the band, foreground and background colours are estimated from the nearest sure
       pixels (normalised convolution); alpha is the projection of the pixel's colour onto
       the line between them, where they differ enough in colour, else the guided-filtered
       segmentation. A colour-guided filter then regularises it (strands follow the photo).
    3. Decontamination, in the band only: the pixel's foreground colour is solved from the
       compositing equation with the estimated background, so the old background leaves no
       halo or rim on the new one.

    Args:
        colour: HxWx3 float32 0..1.
        person: HxW float32 0..1 segmentation of the one person.
        face: HxW float32 face mask: its core is always opaque.

    Returns:
        (alpha HxW float32, colour HxWx3 float32 with the band decontaminated).
    """
    height, width = person.shape
    band = max(3, round(band_fraction * height))
    # The trimap and the colour models at quarter resolution: both are smooth at that scale
    # (the segmentation came from a 256 px model), and full-size morphology would cost more
    # than all the rest of the matte.
    quarter = (max(2, width // 4), max(2, height // 4))
    hard = (cv2.resize(person, quarter, interpolation=cv2.INTER_AREA) > 0.5).astype(np.uint8)
    radius = max(1, round(band / 4))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    small_fg = cv2.erode(hard, kernel)
    small_bg = 1 - cv2.dilate(hard, kernel)
    sure_fg = cv2.resize(small_fg, (width, height), interpolation=cv2.INTER_NEAREST)
    sure_bg = cv2.resize(small_bg, (width, height), interpolation=cv2.INTER_NEAREST)
    face_core = np.clip((face - 0.5) * 2.0, 0.0, 1.0)
    unknown = (sure_fg == 0) & (sure_bg == 0)
    if not unknown.any():
        return np.maximum(sure_fg.astype(np.float32), face_core), colour

    # 2. Local colour models, from the nearest sure pixels of each side.
    small_colour = cv2.resize(colour, quarter, interpolation=cv2.INTER_AREA)
    sigma = max(1.0, radius * 0.75)
    fg_colour = _normalised_blur(small_colour, small_fg.astype(np.float32), sigma)
    bg_colour = _normalised_blur(small_colour, small_bg.astype(np.float32), sigma)
    fg_colour = cv2.resize(fg_colour, (width, height), interpolation=cv2.INTER_LINEAR)
    bg_colour = cv2.resize(bg_colour, (width, height), interpolation=cv2.INTER_LINEAR)

    rows, cols = np.nonzero(unknown)
    pixel = colour[rows, cols]
    fore = fg_colour[rows, cols]
    back = bg_colour[rows, cols]
    direction = fore - back
    separation = (direction * direction).sum(axis=1)
    projected = np.clip(((pixel - back) * direction).sum(axis=1) / (separation + 1e-4), 0.0, 1.0)
    confidence = np.clip(separation / separation_scale, 0.0, 1.0)
    estimate = confidence * projected + (1.0 - confidence) * person[rows, cols]

    alpha = sure_fg.astype(np.float32)
    alpha[rows, cols] = estimate
    # Regularise with the photo as guide; a one-channel guide along the local foreground-to-
    # background colour direction separates them as well as the full colour guide, at a
    # fraction of its cost (no per-pixel 3x3 covariance).
    mean_direction = np.abs(direction).mean(axis=0) + 1e-3
    guide = colour @ (mean_direction / mean_direction.sum()).astype(np.float32)
    alpha = np.clip(cv2.ximgproc.guidedFilter(guide, alpha, max(2, band // 2), regularise_eps), 0.0, 1.0)
    alpha[sure_fg > 0] = 1.0
    alpha[sure_bg > 0] = 0.0
    alpha = np.maximum(alpha, face_core)
    alpha = _connected_to_face(alpha, face_core)

    # 3. Decontaminate the band: F = (I - (1 - a) B) / a where a is large enough to solve,
    # the local foreground estimate where it is not.
    a = alpha[rows, cols][:, None]
    solved = np.clip((pixel - (1.0 - a) * back) / np.maximum(a, 1e-3), 0.0, 1.0)
    trust = np.clip((a - 0.15) / 0.5, 0.0, 1.0)
    clean = colour.copy()
    clean[rows, cols] = trust * solved + (1.0 - trust) * fore
    return alpha.astype(np.float32), clean


def _connected_to_face(alpha: np.ndarray, face_core: np.ndarray) -> np.ndarray:
    """Zero every part of the matte not connected to the face: the subject is one region, and
    a patch of old background that happened to match the person's colours is not part of it."""
    alpha = np.where(alpha < 0.02, 0.0, alpha).astype(np.float32)  # invisible, and noise
    count, labels = cv2.connectedComponents((alpha > 0.0).astype(np.uint8), connectivity=8)
    if count <= 2:
        return alpha
    keep = np.unique(labels[(face_core > 0.5) & (labels > 0)])
    if keep.size == 0:  # no face core (the mesh failed): keep the largest region
        sizes = np.bincount(labels.ravel(), minlength=count)
        sizes[0] = 0
        keep = np.array([int(sizes.argmax())])
    lookup = np.zeros(count, np.float32)
    lookup[keep] = 1.0
    return alpha * lookup[labels]


def _normalised_blur(colour: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Weighted local mean colour: blur(colour * weight) / blur(weight)."""
    weighted = colour * weight[..., None]
    blurred = cv2.GaussianBlur(weighted, (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    # Far from any sure pixel, widen the search: a second, 4x wider blur (at 1/4 size) fills in.
    size = (weight.shape[1], weight.shape[0])
    tiny = (max(2, size[0] // 4), max(2, size[1] // 4))
    wide = cv2.resize(
        cv2.GaussianBlur(cv2.resize(weighted, tiny, interpolation=cv2.INTER_AREA), (0, 0), sigma), size
    )
    wide_norm = cv2.resize(
        cv2.GaussianBlur(cv2.resize(weight, tiny, interpolation=cv2.INTER_AREA), (0, 0), sigma), size
    )
    near = np.clip(norm / 0.05, 0.0, 1.0)[..., None]
    mean = blurred / np.maximum(norm, 1e-4)[..., None]
    wide_mean = wide / np.maximum(wide_norm, 1e-4)[..., None]
    return (near * mean + (1.0 - near) * wide_mean).astype(np.float32)


def neutralise_cast(colour: np.ndarray, alpha: np.ndarray, strength: float) -> np.ndarray:
    """Remove the photo's colour cast from the subject (grey-edge estimate over the person).

    Edges of a scene average to grey under neutral light, and unlike grey-world this holds
    for a face (skin is warm, its edges are not). The correction is partial and bounded; the
    style's grade then adds its own warmth on a neutral base.
    """
    if strength <= 0:
        return colour
    quarter = (max(2, colour.shape[1] // 4), max(2, colour.shape[0] // 4))
    small = cv2.resize(colour, quarter, interpolation=cv2.INTER_AREA)
    weight = cv2.resize(alpha, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA) > 0.9
    if weight.sum() < 64:
        return colour
    edges = np.abs(cv2.Sobel(small, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(small, cv2.CV_32F, 0, 1))
    per_channel = edges[weight].mean(axis=0) + 1e-4
    gains = np.clip(per_channel.mean() / per_channel, 0.8, 1.25) ** strength
    gains /= float(gains @ np.array([0.299, 0.587, 0.114], np.float32))  # keep the brightness
    colour *= gains.astype(np.float32)[None, None, :]
    return colour


def _grade_lut(style: Style, rng: np.random.Generator) -> np.ndarray:
    """Per-channel 8-bit lookup table: contrast S-curve, warmth, a touch of black lift."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    contrast = rng.uniform(0.10, 0.24)
    s_curve = x * x * (3 - 2 * x)
    base = x + contrast * (s_curve - x)
    lift = rng.uniform(0.0, 0.02)
    base = lift + (1.0 - lift) * base
    warmth = float(np.clip(style.warmth + rng.uniform(-0.06, 0.06), -1.0, 1.0))
    gains = np.array([1.0 + 0.06 * warmth, 1.0 + 0.012 * warmth, 1.0 - 0.07 * warmth], np.float32)
    # Warmth tints the mid-tones; white stays white (a high-key backdrop must not turn cream).
    highlight = np.clip((x - 0.85) / 0.15, 0.0, 1.0)[:, None]
    gains_curve = gains[None, :] * (1.0 - highlight) + highlight
    lut = np.clip(base[:, None] * gains_curve * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return lut.reshape(256, 1, 3)


def load_studio_renderer() -> StudioRenderer:
    """Factory used by the pipeline (mirrors `load_diffusion_renderer`)."""
    return StudioRenderer()
