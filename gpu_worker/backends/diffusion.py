"""The `diffusion` backend: SDXL-class inpainting of everything except the face.

How a job is rendered:
1. Frame the photo head-and-shoulders at the final output size (`gpu_worker.framing`).
2. Build two masks from the face oval of `FaceAnalysis` (landmarks, or the detector box):
   the *repaint* mask (everything farther than a small margin from the face) goes to the
   inpainting model; the *blend* mask (the face plus a feathered rim, strictly inside the
   part that is not repainted) puts the original pixels back afterwards.
3. Inpaint all variants as ONE batch (`num_images_per_prompt=variants`), one seeded CPU
   `torch.Generator` per variant, so a retried job gives the same portraits on any device.
4. Upscale the generated frames to the output size and blend the ORIGINAL face back with the
   feathered mask. Identity is kept by construction: the face pixels are the person's own,
   and no face embedding (biometric template) is ever computed.

Weights load once per process from a local diffusers-format folder (`PROPORTRAIT_DIFFUSION_MODEL`),
offline only: `local_files_only=True`, `HF_HUB_OFFLINE=1`, safetensors only. A missing or
incomplete folder is a `ModelConfigurationError` at start-up, never a download.

Production defaults (real weights):
- Weights: an SDXL inpainting pipeline folder whose UNet is distilled for 8 steps. Two kinds of
  published weights fit:
  * `diffusers/stable-diffusion-xl-1.0-inpainting-0.1` (9-channel inpainting UNet) with the
    SDXL-Lightning 8-step LoRA (`ByteDance/SDXL-Lightning`, `sdxl_lightning_8step_lora`) or
    the Hyper-SD 8-step LoRA (`ByteDance/Hyper-SD`, `Hyper-SDXL-8steps-lora`) fused in offline
    (`load_lora_weights`, `fuse_lora`, `save_pretrained`); we never load LoRAs at run time;
  * or the SDXL-Lightning 8-step full UNet (4-channel base UNet) in an SDXL pipeline folder:
    the inpainting pipeline then keeps the face by re-noising the original latents at every
    step instead of conditioning on them (diffusers' 4-channel inpainting mode).
- 8 steps, guidance 1.0 (classifier-free guidance skipped: one UNet pass per step, half the
  cost), `EulerDiscreteScheduler` with `timestep_spacing="trailing"` (what SDXL-Lightning
  prescribes; Hyper-SD works with it too).
- A non-distilled checkpoint (plain inpainting 0.1) needs `steps=30, guidance_scale=6.0,
  scheduler="euler"` (`PROPORTRAIT_DIFFUSION_STEPS=30`, `..._GUIDANCE=6`, `..._SCHEDULER=euler`).
- bf16 on CUDA (fp16 where bf16 is missing; the SDXL VAE then needs the fp16-fix VAE or the
  pipeline upcasts it), float32 on CPU. In bf16 the VAE is never upcast to fp32: the SDXL
  config's `force_upcast` exists for fp16 overflow, which bf16 (fp32's exponent range) does not
  have, and honouring it made diffusers cast the whole VAE to fp32 and back on every job.
- SDPA attention (torch 2 default); channels_last UNet and VAE; cuDNN autotuning and TF32
  matmuls set by the loader (`configure_torch`), so the benchmark measures what runs.
- `torch.compile` of the UNet and the VAE decoder on by default on CUDA (mode
  "reduce-overhead"; `PROPORTRAIT_DIFFUSION_COMPILE=0` turns it off), off on CPU. The worker
  warms up every built-in output size at start (`warm_up()`), compiled or not, so no person's
  job pays for compilation or autotuning; compiled graphs persist in an inductor cache folder
  (`PROPORTRAIT_DIFFUSION_COMPILE_CACHE`, default `~/.cache/proportrait/inductor`), so a
  restarted worker reloads them instead of compiling again.
- Prompt embeddings (both text encoders) are computed once per style prompt and cached in the
  renderer (`PROMPT_CACHE_SIZE` entries): styles are few and their prompts fixed.
- Generation at about one megapixel (`render_pixels`, SDXL's training size), sides rounded to
  what the UNet accepts; output size, framing and the face blend at full output resolution.

Speed is measured by `bench/bench_diffusion.py` (see docs/benchmarks-diffusion.md).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from gpu_worker.analysis import FaceAnalysis
from gpu_worker.backends.base import RenderProgress, report
from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.framing import Framing, compute_framing
from gpu_worker.schemas import Style

logger = logging.getLogger(__name__)

MODEL_DIR_VARIABLE = "PROPORTRAIT_DIFFUSION_MODEL"
# What a diffusers-format SDXL inpainting folder must hold (model_index.json names them).
REQUIRED_COMPONENTS = (
    "unet",
    "vae",
    "text_encoder",
    "text_encoder_2",
    "tokenizer",
    "tokenizer_2",
    "scheduler",
)
SCHEDULERS = ("euler_trailing", "euler", "dpmpp", "lcm", "saved")
MAX_VARIANTS = 8
# Share of the render progress given to the denoising steps; decode and blend take the rest.
STEPS_SHARE = 0.9
# Distinct (prompt, negative prompt) pairs whose embeddings a renderer keeps (built-in styles
# plus organisations' brand styles in use).
PROMPT_CACHE_SIZE = 64
COMPILE_VARIABLE = "PROPORTRAIT_DIFFUSION_COMPILE"
COMPILE_CACHE_VARIABLE = "PROPORTRAIT_DIFFUSION_COMPILE_CACHE"
DEFAULT_COMPILE_CACHE = Path("~/.cache/proportrait/inductor")


class ModelConfigurationError(GenerationError):
    """The diffusion weights folder is missing or unusable: an operator must fix the worker.

    `message` stays the plain-language text for the person whose job failed; `detail` says
    what an operator has to fix and is what `str()` shows in logs.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorCode.GENERATION_FAILED)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class DiffusionSettings:
    """How the renderer samples and blends. The defaults are the production defaults."""

    steps: int = 8
    # <= 1.0 skips classifier-free guidance (distilled UNets are trained without it).
    guidance_scale: float = 1.0
    scheduler: str = "euler_trailing"
    # Pixels the model generates per portrait; output size is independent of it.
    render_pixels: int = 1024 * 1024
    # Distances from the face oval, as fractions of the face height: the original is kept
    # fully up to `face_margin`, fades out over `feather`, and the model repaints beyond.
    face_margin: float = 0.03
    feather: float = 0.07
    # Keep the person's own hair too (person matte above the chin), not only the face.
    keep_hair: bool = False
    compile_mode: str = "reduce-overhead"

    def check(self) -> None:
        """Raise ValueError naming the setting to fix."""
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.guidance_scale < 0:
            raise ValueError(f"guidance_scale must be >= 0, got {self.guidance_scale}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.render_pixels < 64 * 64:
            raise ValueError(f"render_pixels must be at least 4096, got {self.render_pixels}")
        if self.face_margin < 0 or self.feather <= 0:
            raise ValueError("face_margin must be >= 0 and feather > 0")


@dataclass(frozen=True)
class InpaintMasks:
    """Masks at output size: `blend` (float32 0..1, original face weight) and `repaint` (bool)."""

    blend: np.ndarray
    repaint: np.ndarray


class DiffusionRenderer:
    """Renders portraits with an SDXL inpainting pipeline; implements `backends.base.Renderer`.

    Build it with `load_diffusion_renderer`; one instance per worker process. Not thread-safe:
    the worker renders one job at a time.
    """

    name = "diffusion"

    def __init__(self, pipeline: Any, settings: DiffusionSettings, device: torch.device) -> None:
        """`pipeline` is a diffusers StableDiffusionXLInpaintPipeline (typed Any: diffusers
        registers its components dynamically, so static types would not see them)."""
        settings.check()
        self.pipeline = pipeline
        self.settings = settings
        self.device = device
        self.dtype: torch.dtype = self.pipeline.unet.dtype
        self.compiled = False
        # (prompt, negative prompt, classifier-free guidance) -> the pipeline's embedding kwargs
        self._prompt_embeddings: OrderedDict[tuple[str, str, bool], dict[str, torch.Tensor]] = OrderedDict()
        #: seconds spent in the last job's stages: prepare (masks, resize), generate
        #: (text encoders, VAE encode, UNet steps, VAE decode), blend (upscale, face back)
        self.last_timings_seconds: dict[str, float] = {}
        # Generation sides must divide into whole latents and whole UNet downsamplings.
        unet_levels = len(self.pipeline.unet.config.block_out_channels)
        self.size_multiple = max(8, self.pipeline.vae_scale_factor * 2 ** (unet_levels - 1))

    def configured(self, **changes: Any) -> DiffusionRenderer:
        """A renderer sharing these weights with other settings (e.g. steps, guidance, scheduler)."""
        settings = replace(self.settings, **changes)
        pipeline: Any = self.pipeline
        if settings.scheduler != self.settings.scheduler:
            from diffusers import StableDiffusionXLInpaintPipeline

            components = dict(pipeline.components)
            components["scheduler"] = _build_scheduler(settings.scheduler, pipeline.scheduler.config)
            pipeline = StableDiffusionXLInpaintPipeline(
                **components,
                requires_aesthetics_score=pipeline.config.requires_aesthetics_score,
                force_zeros_for_empty_prompt=pipeline.config.force_zeros_for_empty_prompt,
                add_watermarker=False,
            )
            pipeline.set_progress_bar_config(disable=True)
        renderer = DiffusionRenderer(pipeline, settings, self.device)
        renderer.compiled = self.compiled
        return renderer

    def compile_unet(self, mode: str | None = None, backend: str = "inductor") -> None:
        """Compile the UNet and the VAE decoder in place; the first render per input shape then
        pays the compile (the worker's warm-up does that before the first job).

        `mode` is an inductor mode (default `settings.compile_mode`); other backends ignore it.
        Inductor's compiled graphs are kept in `$PROPORTRAIT_DIFFUSION_COMPILE_CACHE`.
        """
        if self.compiled:
            return
        modules = (self.pipeline.unet, self.pipeline.vae.decoder)
        if backend == "inductor":
            import torch._inductor.config as inductor_config

            use_compile_cache()
            # 1x1 convolutions as matmuls: faster GEMM kernels for the UNet's projection convs.
            inductor_config.conv_1x1_as_mm = True
            for module in modules:
                module.compile(mode=mode or self.settings.compile_mode, fullgraph=False, dynamic=False)
        else:
            for module in modules:
                module.compile(backend=backend, fullgraph=False, dynamic=False)
        self.compiled = True

    def prompt_embeddings(self, prompt: str, negative_prompt: str) -> dict[str, torch.Tensor]:
        """The pipeline's embedding arguments for a style's prompts, computed once and cached.

        Keyed by whether classifier-free guidance runs, since only then are the negative
        embeddings used (the pipeline decides the same way: guidance_scale > 1).
        """
        guided = self.settings.guidance_scale > 1.0
        key = (prompt, negative_prompt, guided)
        cached = self._prompt_embeddings.get(key)
        if cached is not None:
            self._prompt_embeddings.move_to_end(key)
            return cached
        with torch.inference_mode():
            positive, negative, pooled, negative_pooled = self.pipeline.encode_prompt(
                prompt=prompt,
                device=self.device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=guided,
                negative_prompt=negative_prompt or None,
            )
        embeddings = {"prompt_embeds": positive, "pooled_prompt_embeds": pooled}
        if guided:
            embeddings["negative_prompt_embeds"] = negative
            embeddings["negative_pooled_prompt_embeds"] = negative_pooled
        self._prompt_embeddings[key] = embeddings
        while len(self._prompt_embeddings) > PROMPT_CACHE_SIZE:
            self._prompt_embeddings.popitem(last=False)
        return embeddings

    def render_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) the model generates for a `width` x `height` output."""
        area = self.settings.render_pixels
        multiple = self.size_multiple
        render_width = max(multiple, round(math.sqrt(area * width / height) / multiple) * multiple)
        render_height = max(multiple, round(math.sqrt(area * height / width) / multiple) * multiple)
        return render_width, render_height

    def render(
        self,
        photo: np.ndarray,
        analysis: FaceAnalysis,
        style: Style,
        variants: int,
        seed: int,
        progress: RenderProgress | None = None,
    ) -> list[np.ndarray]:
        """Render `variants` framed portraits; see `backends.base.Renderer.render`.

        Raises:
            ValueError: the arguments break the Renderer contract.
            GenerationError(out_of_memory): the GPU ran out of memory (the batch is freed).
        """
        # 1. Check inputs.
        _check_render_inputs(photo, analysis, style, variants)
        report(progress, 0.0)
        # 2. Frame the photo and its face at the output size.
        framing = compute_framing(analysis, style)
        framed = framing.warp(photo)
        face = framing.warp(analysis.face_mask)
        if self.settings.keep_hair:
            face = np.maximum(face, _hair_region(framing.warp(analysis.person_mask), framing, analysis))
        if float(face.max()) < 0.5:
            # Mask drawing failed (degenerate landmarks): fall back to the detector box.
            face = _box_ellipse(framing.output_width, framing.output_height, framing, analysis)
        face_height = (analysis.chin[1] - analysis.forehead[1]) * framing.scale
        # 3. Masks; where the frame reaches past the photo there is nothing original to keep.
        masks = self.build_masks(face > 0.5, face_height, valid=framing.valid_mask() > 0.99)
        # 4. Inpaint every variant in one batch and blend the original face back.
        return self.inpaint_batch(
            framed, masks, style.prompt, style.negative_prompt, variants, seed, progress
        )

    def build_masks(
        self, face: np.ndarray, face_height: float, valid: np.ndarray | None = None
    ) -> InpaintMasks:
        """Blend and repaint masks (output size) around a boolean face region.

        The blend mask fades to zero strictly inside the part that is not repainted, with a
        guard of one latent cell (the model sees the mask at 1/8 resolution), so the seam
        always lies between the original and the model's own reconstruction of it.
        """
        height, width = face.shape
        if valid is not None:
            face = face & valid
        inner = self.settings.face_margin * face_height
        outer = inner + max(1.0, self.settings.feather * face_height)
        render_width, _ = self.render_size(width, height)
        guard = self.pipeline.vae_scale_factor * width / render_width + 1.0
        # Distance (output pixels) from each pixel to the nearest face pixel.
        distance = cv2.distanceTransform((~face).astype(np.uint8), cv2.DIST_L2, 5)
        ramp = np.clip((outer - distance) / (outer - inner), 0.0, 1.0)
        blend = (ramp * ramp * (3.0 - 2.0 * ramp)).astype(np.float32)  # smoothstep: no visible edge
        if valid is not None:
            blend *= valid
        return InpaintMasks(blend=blend, repaint=distance > outer + guard)

    def inpaint_batch(
        self,
        image: np.ndarray,
        masks: InpaintMasks,
        prompt: str,
        negative_prompt: str,
        variants: int,
        seed: int,
        progress: RenderProgress | None = None,
    ) -> list[np.ndarray]:
        """Repaint `masks.repaint` of `image` (HxWx3 uint8) `variants` times in one pipeline call.

        Returns HxWx3 uint8 frames with the original blended back by `masks.blend`.
        """
        from PIL import Image

        started = time.perf_counter()
        height, width = image.shape[:2]
        render_width, render_height = self.render_size(width, height)
        model_image = _resize(image, render_width, render_height, cv2.INTER_AREA)
        # The pipeline thresholds the mask at 0.5; area resampling keeps thin gaps honest.
        model_mask = _resize(masks.repaint.astype(np.float32), render_width, render_height, cv2.INTER_AREA)
        generators = [torch.Generator("cpu").manual_seed(_variant_seed(seed, i)) for i in range(variants)]
        steps = self.settings.steps

        def on_step_end(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            total = max(1, getattr(pipeline, "num_timesteps", steps))
            report(progress, STEPS_SHARE * (step + 1) / total)
            return tensors

        embeddings = self.prompt_embeddings(prompt, negative_prompt)
        prepared = time.perf_counter()
        out_of_memory = False
        generated: torch.Tensor | None = None
        try:
            with torch.inference_mode():
                generated = self.pipeline(
                    **embeddings,
                    image=Image.fromarray(model_image),
                    mask_image=Image.fromarray(np.round(model_mask * 255).astype(np.uint8), mode="L"),
                    height=render_height,
                    width=render_width,
                    # 1.0, not diffusers' 0.9999 default: start from pure noise and run every step.
                    strength=1.0,
                    num_inference_steps=steps,
                    guidance_scale=self.settings.guidance_scale,
                    num_images_per_prompt=variants,
                    generator=generators,
                    # Stay on the device: resizing and blending there beats a float copy to the host.
                    output_type="pt",
                    callback_on_step_end=on_step_end,
                ).images
                _synchronize(self.device)
                generated_at = time.perf_counter()
                frames = self._blend(image, masks.blend, generated)
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True
        except RuntimeError as error:
            if "out of memory" not in str(error):
                raise
            out_of_memory = True
        if out_of_memory:
            # Outside the except block, so the traceback's frames (holding the batch) are gone.
            generated = None
            _release_memory()
            raise GenerationError(ErrorCode.OUT_OF_MEMORY)
        finished = time.perf_counter()
        self.last_timings_seconds = {
            "prepare": prepared - started,
            "generate": generated_at - prepared,
            "blend": finished - generated_at,
        }
        report(progress, 1.0)
        return frames

    def warm_up(self, width: int, height: int, variants: int = 4) -> float:
        """Render one throw-away batch at this output size (compiles, autotunes); return seconds."""
        started = time.perf_counter()
        image = np.full((height, width, 3), 128, np.uint8)
        face = np.zeros((height, width), np.uint8)
        cv2.ellipse(face, (width // 2, height // 2), (width // 8, height // 6), 0, 0, 360, (1,), -1)
        self.inpaint_batch(image, self.build_masks(face > 0, height / 3), "warm up", "", variants, 0)
        _synchronize(self.device)
        return time.perf_counter() - started

    def _blend(self, original: np.ndarray, blend: np.ndarray, generated: torch.Tensor) -> list[np.ndarray]:
        """Upscale the generated batch (B,3,h,w in 0..1) to the output size and put the face back."""
        height, width = original.shape[:2]
        device = generated.device
        # A NaN from an overflowing fp16 VAE would survive `0 * NaN` and poison the face too.
        frames = torch.nan_to_num(generated.float(), nan=0.0)
        if frames.shape[-2:] != (height, width):
            frames = torch.nn.functional.interpolate(frames, size=(height, width), mode="bicubic")
        frames = frames.clamp(0.0, 1.0) * 255.0
        source = torch.from_numpy(original).to(device).permute(2, 0, 1).float()
        weight = torch.from_numpy(blend).to(device)[None, None]
        mixed = weight * source + (1.0 - weight) * frames
        batch = mixed.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()
        return [batch[index] for index in range(batch.shape[0])]


def load_diffusion_renderer(
    model_dir: str | os.PathLike[str] | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    compile: bool | None = None,
    steps: int | None = None,
    guidance_scale: float | None = None,
    scheduler: str | None = None,
    render_pixels: int | None = None,
    variant: str | None = None,
    settings: DiffusionSettings | None = None,
) -> DiffusionRenderer:
    """Load the inpainting weights from a local folder, offline, and return a renderer.

    Args:
        model_dir: diffusers-format SDXL inpainting folder; default `$PROPORTRAIT_DIFFUSION_MODEL`.
        device: default "cuda" when available, else "cpu".
        dtype: default bfloat16 on CUDA (float16 without bf16 support), float32 on CPU.
        compile: torch.compile the UNet and VAE decoder; default `$PROPORTRAIT_DIFFUSION_COMPILE`,
            else on for CUDA and off for CPU (`compile_by_default`).
        steps, guidance_scale, scheduler: sampling; defaults from `$PROPORTRAIT_DIFFUSION_STEPS`,
            `..._GUIDANCE`, `..._SCHEDULER`, else `DiffusionSettings` (8, 1.0, euler_trailing).
        render_pixels: pixels generated per portrait (default about 1 MP).
        variant: weight file variant, e.g. "fp16" for `*.fp16.safetensors` folders.
        settings: base settings; the arguments above override them.

    Raises:
        ModelConfigurationError: no folder configured, or it is missing or incomplete.
    """
    # Nothing below may reach a model hub; the flag also covers libraries' own lookups.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

    # 1. Settings: arguments, then environment, then defaults.
    settings = settings or DiffusionSettings()
    overrides: dict[str, Any] = {
        "steps": steps if steps is not None else _env_int("PROPORTRAIT_DIFFUSION_STEPS"),
        "guidance_scale": guidance_scale
        if guidance_scale is not None
        else _env_float("PROPORTRAIT_DIFFUSION_GUIDANCE"),
        "scheduler": scheduler or os.environ.get("PROPORTRAIT_DIFFUSION_SCHEDULER") or None,
        "render_pixels": render_pixels,
    }
    settings = replace(settings, **{key: value for key, value in overrides.items() if value is not None})
    settings.check()
    torch_device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch_dtype = dtype or _default_dtype(torch_device)
    if compile is None:
        compile = compile_by_default(torch_device)
    configure_torch(torch_device)

    # 2. Check the folder before importing or allocating anything heavy.
    folder = _check_model_dir(model_dir or os.environ.get(MODEL_DIR_VARIABLE))

    # 3. Load every component from the folder, offline, safetensors only (no pickles).
    from diffusers import StableDiffusionXLInpaintPipeline

    started = time.perf_counter()
    try:
        pipeline = StableDiffusionXLInpaintPipeline.from_pretrained(
            folder,
            dtype=torch_dtype,
            local_files_only=True,
            use_safetensors=True,
            variant=variant,
            add_watermarker=False,
        )
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ModelConfigurationError(
            f"could not load the diffusion model from {folder}: {type(error).__name__}: {error}"
        ) from error
    in_channels = pipeline.unet.config.in_channels
    if in_channels not in (4, 9):
        raise ModelConfigurationError(
            f"the UNet in {folder} has {in_channels} input channels; an SDXL inpainting (9) or base (4) "
            "UNet is needed"
        )

    # 4. Scheduler and speed options.
    pipeline.scheduler = _build_scheduler(settings.scheduler, pipeline.scheduler.config)
    pipeline.set_progress_bar_config(disable=True)
    pipeline.to(torch_device)
    # NHWC lets cuDNN pick tensor-core convolution kernels without layout transposes.
    pipeline.unet.to(memory_format=torch.channels_last)
    pipeline.vae.to(memory_format=torch.channels_last)
    if torch_dtype == torch.bfloat16:
        # bf16 cannot overflow where fp16 does, so the fp32 round trip buys nothing (see above).
        pipeline.vae.register_to_config(force_upcast=False)
    renderer = DiffusionRenderer(pipeline, settings, torch_device)
    if compile:
        renderer.compile_unet()
    logger.info(
        "diffusion model loaded in %.1f s (%s, %s, %d steps, guidance %.1f, %s, compile=%s)",
        time.perf_counter() - started,
        torch_device,
        torch_dtype,
        settings.steps,
        settings.guidance_scale,
        settings.scheduler,
        compile,
    )
    return renderer


def compile_by_default(device: torch.device) -> bool:
    """`$PROPORTRAIT_DIFFUSION_COMPILE` when set, else on for CUDA (the production path) and off
    for CPU (inductor's C++ code generation would take minutes there)."""
    value = os.environ.get(COMPILE_VARIABLE, "").strip().lower()
    if value:
        return value in {"1", "true", "yes", "on"}
    return device.type == "cuda"


def configure_torch(device: torch.device) -> None:
    """What the loader sets for speed on CUDA, and so what the benchmark measures: cuDNN picks
    the fastest convolution algorithm per shape (shapes are fixed per output size), and fp32
    matmuls outside the bf16 model (schedulers, blending) may use TF32 tensor cores."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("high")


def use_compile_cache() -> Path:
    """Point inductor's caches at the persistent folder (`$PROPORTRAIT_DIFFUSION_COMPILE_CACHE`),
    so a restarted worker loads its compiled graphs instead of compiling them again."""
    import torch._inductor.config as inductor_config

    folder = Path(os.environ.get(COMPILE_CACHE_VARIABLE) or DEFAULT_COMPILE_CACHE).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    inductor_config.fx_graph_cache = True
    inductor_config.autotune_local_cache = True
    return folder


def _check_model_dir(model_dir: str | os.PathLike[str] | None) -> Path:
    if not model_dir:
        raise ModelConfigurationError(
            f"no diffusion model configured: set {MODEL_DIR_VARIABLE} to a local diffusers-format "
            "SDXL inpainting folder (weights are never downloaded)"
        )
    folder = Path(model_dir).expanduser()
    if not folder.is_dir():
        raise ModelConfigurationError(
            f"diffusion model folder {folder} does not exist ({MODEL_DIR_VARIABLE}); weights are never "
            "downloaded, copy them there first"
        )
    missing = [name for name in ("model_index.json", *REQUIRED_COMPONENTS) if not (folder / name).exists()]
    if missing:
        raise ModelConfigurationError(
            f"diffusion model folder {folder} is incomplete, missing: {', '.join(missing)} "
            "(expected a diffusers-format SDXL inpainting pipeline saved with save_pretrained)"
        )
    return folder


def _build_scheduler(kind: str, config: Any) -> Any:
    from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler, LCMScheduler

    if kind == "euler_trailing":
        # SDXL-Lightning and Hyper-SD are distilled on trailing timesteps; "leading" would
        # skip the noisiest step and leave 8-step images grey and blurry.
        return EulerDiscreteScheduler.from_config(config, timestep_spacing="trailing")
    if kind == "euler":
        return EulerDiscreteScheduler.from_config(config)
    if kind == "dpmpp":
        return DPMSolverMultistepScheduler.from_config(
            config, algorithm_type="dpmsolver++", use_karras_sigmas=True
        )
    if kind == "lcm":
        return LCMScheduler.from_config(config, timestep_spacing="trailing")
    if kind == "saved":
        import diffusers

        return getattr(diffusers, config.get("_class_name", ""), EulerDiscreteScheduler).from_config(config)
    raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {kind!r}")


def _check_render_inputs(photo: np.ndarray, analysis: FaceAnalysis, style: Style, variants: int) -> None:
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be HxWx3 uint8 RGB, got {photo.dtype} {photo.shape}")
    if photo.shape[:2] != (analysis.height, analysis.width):
        raise ValueError(
            f"photo is {photo.shape[1]}x{photo.shape[0]} but the analysis is for "
            f"{analysis.width}x{analysis.height}"
        )
    if not 1 <= variants <= MAX_VARIANTS:
        raise ValueError(f"variants must be 1..{MAX_VARIANTS}, got {variants}")
    if not style.prompt.strip():
        raise ValueError(f"style {style.slug!r} has no prompt; the diffusion backend needs one")


def _hair_region(person: np.ndarray, framing: Framing, analysis: FaceAnalysis) -> np.ndarray:
    """The person matte between the top of the head and the chin, across the head's width."""
    region = np.zeros_like(person)
    x0, _, x1, _ = analysis.face_box
    left, top = framing.to_output(x0 - 0.4 * (x1 - x0), analysis.head_top[1] - 0.05 * analysis.head_height)
    right, bottom = framing.to_output(x1 + 0.4 * (x1 - x0), analysis.chin[1])
    rows = slice(max(0, int(top)), max(0, int(bottom)))
    columns = slice(max(0, int(left)), max(0, int(right)))
    region[rows, columns] = person[rows, columns]
    return region


def _box_ellipse(width: int, height: int, framing: Framing, analysis: FaceAnalysis) -> np.ndarray:
    x0, y0, x1, y1 = analysis.face_box
    (left, top), (right, bottom) = framing.to_output(x0, y0), framing.to_output(x1, y1)
    mask = np.zeros((height, width), np.float32)
    centre = (round((left + right) / 2), round((top + bottom) / 2))
    axes = (max(1, round((right - left) * 0.5)), max(1, round((bottom - top) * 0.6)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, (1.0,), -1)
    return mask


def _resize(image: np.ndarray, width: int, height: int, interpolation: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _variant_seed(seed: int, variant: int) -> int:
    # Independent streams per (job seed, variant); plain seed + variant would make variant 1
    # of seed 0 repeat variant 0 of seed 1.
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, variant]).generate_state(1, np.uint64)[0]) >> 1


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _default_dtype(device: torch.device) -> torch.dtype:
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None
