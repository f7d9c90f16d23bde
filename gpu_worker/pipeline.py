"""The generation pipeline: one photo in, framed, finished portraits out.

One `PortraitPipeline` per worker process and backend, built once by `get_pipeline` (models
load once). `__call__` reads as the five stages of DESIGN.md; all inputs are checked first.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gpu_worker.analysis import AnalysisSettings, analyse_face, warm_up
from gpu_worker.backends.base import Renderer, check_frames
from gpu_worker.decode import WORKING_LONG_SIDE, decode_photo
from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.finish import finish_portrait
from gpu_worker.framing import ASPECTS, working_long_side_for
from gpu_worker.schemas import Backend, GenerationRequest, GenerationResult, InputLimits

logger = logging.getLogger(__name__)

MIN_VARIANTS, MAX_VARIANTS = 1, 8
MIN_PREVIEW_LONG_SIDE, MAX_PREVIEW_LONG_SIDE = 128, 1600

# Share of the whole job each stage accounts for in progress reports (the render dominates on
# the diffusion backend; the studio backend is fast everywhere).
_STAGE_SPANS: dict[str, tuple[float, float]] = {
    "decode": (0.0, 0.05),
    "analyse": (0.05, 0.15),
    "render": (0.15, 0.9),
    "finish": (0.9, 1.0),
}


class PortraitPipeline:
    """Turns a `GenerationRequest` into a `GenerationResult` with one renderer.

    Args:
        renderer: the backend (`backends.studio.StudioRenderer`, or the diffusion renderer).
        backend: which `Backend` this is, recorded in results and in the outputs' XMP.
        limits: upload limits and decode budgets, re-checked here (the worker never trusts the
            web tier's check); by default from the environment, like the web tier's.
        analysis_settings: face-check thresholds.
        working_long_side: long side the photo is decoded to before analysis and rendering.
    """

    def __init__(
        self,
        renderer: Renderer,
        backend: Backend,
        limits: InputLimits | None = None,
        analysis_settings: AnalysisSettings | None = None,
        working_long_side: int = WORKING_LONG_SIDE,
    ) -> None:
        self.renderer = renderer
        self.backend = backend
        self.limits = limits or InputLimits.from_environment()
        self.analysis_settings = analysis_settings or AnalysisSettings()
        self.working_long_side = working_long_side

    def __call__(self, request: GenerationRequest) -> GenerationResult:
        """Run one job. Deterministic: the same request and seed give byte-identical outputs.

        Raises:
            InputError: the photo is unusable (unsupported_format, file_too_large,
                image_too_large, corrupt_image, no_face, multiple_faces, face_too_small).
            GenerationError: generation_failed (bad request or backend fault).
        """
        timings: dict[str, float] = {}

        # 1. check inputs
        self.check_inputs(request)

        # 2. decode and normalise
        with self._stage(request, "decode", timings):
            working = working_long_side_for(request.style, self.working_long_side)
            photo = decode_photo(request.photo, self.limits, working)

        # 3. analyse
        with self._stage(request, "analyse", timings):
            analysis = analyse_face(photo, self.analysis_settings)

        # 4. render
        with self._stage(request, "render", timings):
            frames = self.renderer.render(
                photo,
                analysis,
                request.style,
                request.variants,
                request.seed,
                progress=self._sub_progress(request, "render"),
            )
            check_frames(frames, request.style, request.variants)
        del photo, analysis  # the photo and masks are not needed past here; free them early

        # 5. finish
        with self._stage(request, "finish", timings):
            portraits = tuple(
                finish_portrait(
                    frame,
                    variant,
                    request.style,
                    self.backend,
                    request.preview_long_side,
                    request.watermark_text,
                )
                for variant, frame in enumerate(frames)
            )
        timings["total"] = sum(timings.values())
        return GenerationResult(
            job_id=request.job_id, backend=self.backend, portraits=portraits, timings_seconds=timings
        )

    def check_inputs(self, request: GenerationRequest) -> None:
        """Validate everything about the request that is not the photo's content.

        A bad request is a programming error upstream, not the person's fault, so it raises
        GenerationError(generation_failed) with a message saying what to fix.
        """
        problems = []
        if not MIN_VARIANTS <= request.variants <= MAX_VARIANTS:
            problems.append(f"variants must be {MIN_VARIANTS}..{MAX_VARIANTS}, got {request.variants}")
        if not isinstance(request.seed, int) or request.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {request.seed!r}")
        if request.backend != self.backend:
            problems.append(f"request is for the {request.backend} backend, this pipeline is {self.backend}")
        if not MIN_PREVIEW_LONG_SIDE <= request.preview_long_side <= MAX_PREVIEW_LONG_SIDE:
            problems.append(
                f"preview_long_side must be {MIN_PREVIEW_LONG_SIDE}..{MAX_PREVIEW_LONG_SIDE}, "
                f"got {request.preview_long_side}"
            )
        if request.style.aspect not in ASPECTS:
            problems.append(f"style aspect must be one of {', '.join(ASPECTS)}, got {request.style.aspect!r}")
        if not request.style.backdrop_colours:
            problems.append("style needs at least one backdrop colour")
        if not isinstance(request.photo, bytes | bytearray) or not request.photo:
            problems.append("photo must be non-empty bytes")
        if problems:
            raise GenerationError(ErrorCode.GENERATION_FAILED, "invalid request: " + "; ".join(problems))

    @contextmanager
    def _stage(self, request: GenerationRequest, stage: str, timings: dict[str, float]) -> Iterator[None]:
        start, end = _STAGE_SPANS[stage]
        _report(request, stage, start)
        started = time.perf_counter()
        yield
        timings[stage] = time.perf_counter() - started
        _report(request, stage, end)

    def _sub_progress(self, request: GenerationRequest, stage: str) -> Callable[[float], None]:
        start, end = _STAGE_SPANS[stage]
        return lambda fraction: _report(request, stage, start + (end - start) * fraction)


def _report(request: GenerationRequest, stage: str, fraction: float) -> None:
    if request.progress is not None:
        request.progress(stage, round(min(1.0, max(0.0, fraction)), 4))


_pipelines_lock = threading.Lock()


def get_pipeline(backend: Backend | str) -> PortraitPipeline:
    """The process-wide pipeline for `backend`, built (and its models loaded) on first use."""
    backend = Backend(backend)
    with _pipelines_lock:
        return _build_pipeline(backend)


@functools.cache
def _build_pipeline(backend: Backend) -> PortraitPipeline:
    if backend is Backend.STUDIO:
        from gpu_worker.backends.studio import load_studio_renderer

        renderer: Renderer = load_studio_renderer()
    else:
        renderer = _load_diffusion_renderer()
    warm_up()
    return PortraitPipeline(renderer, backend)


def _load_diffusion_renderer() -> Renderer:
    # Imported lazily: CPU workers must not pay for (or need) torch and diffusers.
    # Operator detail goes to the log and the exception chain; the person sees the plain message.
    try:
        from gpu_worker.backends import diffusion
    except ImportError as error:
        logger.critical("the diffusion backend cannot be imported: %s", error)
        raise GenerationError(ErrorCode.GENERATION_FAILED) from error
    try:
        renderer = diffusion.load_diffusion_renderer()
    except GenerationError as error:
        logger.critical("the diffusion backend cannot start: %s", error)
        raise GenerationError(error.code) from error
    # Compile (when on) and autotune for each built-in output size now, not in the first
    # person's job: cuDNN's per-shape search and the allocator's first growth cost an eager
    # model time too.
    from gpu_worker.framing import output_size
    from gpu_worker.styles import BUILTIN_STYLES

    for width, height in sorted({output_size(style) for style in BUILTIN_STYLES.values()}):
        seconds = renderer.warm_up(width, height)
        logger.info("diffusion warm-up at %dx%d took %.1f s", width, height, seconds)
    return renderer
