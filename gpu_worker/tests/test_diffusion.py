"""The diffusion backend with a tiny random-weight SDXL inpainting model, on CPU, two steps.

The model is saved in diffusers format and loaded back through the production loader, with
every network path booby-trapped: what runs here is what a worker runs, minus the weights.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gpu_worker.backends import diffusion
from gpu_worker.backends.base import Renderer, check_frames
from gpu_worker.backends.diffusion import DiffusionRenderer, ModelConfigurationError, load_diffusion_renderer
from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.framing import compute_framing
from gpu_worker.schemas import Style
from gpu_worker.tests.tiny_sdxl import save_tiny_sdxl_inpaint_model, synthetic_face_analysis, synthetic_photo

STEPS = 2
VARIANTS = 4
STYLE = Style(
    slug="studio-grey",
    name="Studio grey",
    description="Grey studio backdrop, dark suit.",
    backdrop_colours=("#8a8d91", "#5f6266"),
    prompt="studio portrait, grey backdrop, dark suit, soft light",
    negative_prompt="blurry",
    aspect="4:5",
    output_long_side=80,  # 64x80 output: tiny, still the real framing code path
)


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the diffusion backend tried to reach the network")


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """Fail the test if anything opens a socket or calls a hub download function."""
    import diffusers.pipelines.pipeline_utils
    import huggingface_hub

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        for module in (huggingface_hub, diffusers.pipelines.pipeline_utils):
            for name in ("hf_hub_download", "snapshot_download", "model_info"):
                if hasattr(module, name):
                    patch.setattr(module, name, _no_network)
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_sdxl_inpaint_model(tmp_path_factory.mktemp("tiny-sdxl"), seed=0)


@pytest.fixture(scope="module")
def renderer(model_dir: Path, offline: None) -> DiffusionRenderer:
    return load_diffusion_renderer(
        model_dir=model_dir, device="cpu", dtype=torch.float32, steps=STEPS, render_pixels=64 * 80
    )


class PipelineSpy:
    """Wraps the pipeline's __call__ to count calls and keep their arguments."""

    def __init__(self, renderer: DiffusionRenderer, patch: pytest.MonkeyPatch) -> None:
        self.calls: list[dict[str, Any]] = []
        pipeline_class = type(renderer.pipeline)
        original = pipeline_class.__call__

        def spy(pipeline: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return original(pipeline, *args, **kwargs)

        patch.setattr(pipeline_class, "__call__", spy)


@pytest.fixture(scope="module")
def job(renderer: DiffusionRenderer) -> dict[str, Any]:
    """One 4-variant job, rendered once and inspected by several tests."""
    photo, analysis = synthetic_photo(), synthetic_face_analysis()
    progress: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        spy = PipelineSpy(renderer, patch)
        frames = renderer.render(photo, analysis, STYLE, VARIANTS, seed=7, progress=progress.append)
    framing = compute_framing(analysis, STYLE)
    return {
        "frames": frames,
        "progress": progress,
        "calls": spy.calls,
        "framed": framing.warp(photo).astype(np.int16),
        "face": framing.warp(analysis.face_mask),
        "photo": photo,
        "analysis": analysis,
    }


def test_it_is_a_renderer(renderer: DiffusionRenderer) -> None:
    assert isinstance(renderer, Renderer)
    assert renderer.name == "diffusion"


def test_it_renders_every_variant_at_the_framing_size(job: dict[str, Any]) -> None:
    frames = job["frames"]
    assert len(frames) == VARIANTS
    assert all(frame.shape == (80, 64, 3) and frame.dtype == np.uint8 for frame in frames)
    check_frames(frames, STYLE, VARIANTS)


def test_it_runs_all_variants_as_one_batch(job: dict[str, Any], renderer: DiffusionRenderer) -> None:
    assert len(job["calls"]) == 1
    call = job["calls"][0]
    assert call["num_images_per_prompt"] == VARIANTS
    assert len(call["generator"]) == VARIANTS
    assert call["num_inference_steps"] == STEPS
    # The style's prompt, as embeddings cached for the style (no negative ones without CFG).
    cached = renderer.prompt_embeddings(STYLE.prompt, STYLE.negative_prompt)
    assert call["prompt_embeds"] is cached["prompt_embeds"]
    assert "negative_prompt_embeds" not in call
    # guidance 1.0: classifier-free guidance off, one UNet pass per step
    assert call["guidance_scale"] == 1.0


def test_it_keeps_the_original_face(job: dict[str, Any]) -> None:
    inside, outside = job["face"] > 0.99, job["face"] < 0.01
    assert inside.sum() > 100
    for frame in job["frames"]:
        difference = np.abs(frame.astype(np.int16) - job["framed"])
        # The face is the person's own pixels, not a re-rendering of them.
        assert difference[inside].max() <= 1
        # Backdrop and clothing are regenerated.
        assert difference[outside].mean() > 10


def test_variants_differ(job: dict[str, Any]) -> None:
    first, second = job["frames"][0].astype(np.int16), job["frames"][1].astype(np.int16)
    outside = job["face"] < 0.01
    assert np.abs(first - second)[outside].mean() > 1


def test_it_reports_progress_per_denoising_step(job: dict[str, Any]) -> None:
    progress = job["progress"]
    step_reports = [fraction for fraction in progress if 0.0 < fraction < 1.0]
    assert len(step_reports) == STEPS
    assert progress == sorted(progress)
    assert progress[0] == 0.0 and progress[-1] == 1.0


def test_the_same_seed_gives_the_same_portraits(renderer: DiffusionRenderer, job: dict[str, Any]) -> None:
    again = renderer.render(job["photo"], job["analysis"], STYLE, VARIANTS, seed=7)
    for first, second in zip(job["frames"], again, strict=True):
        assert np.array_equal(first, second)


def test_it_loads_offline_through_the_production_loader(renderer: DiffusionRenderer) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert renderer.pipeline.unet.config.in_channels == 9
    assert renderer.settings.steps == STEPS
    # The production scheduler for 8-step distilled weights, built from the saved config.
    assert type(renderer.pipeline.scheduler).__name__ == "EulerDiscreteScheduler"
    assert renderer.pipeline.scheduler.config.timestep_spacing == "trailing"


def test_a_missing_model_folder_is_a_clear_error(tmp_path: Path, offline: None) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelConfigurationError) as raised:
        load_diffusion_renderer(model_dir=missing, device="cpu")
    assert str(missing) in str(raised.value)
    assert "never downloaded" in str(raised.value)
    assert isinstance(raised.value, GenerationError)
    # What the person sees says nothing about servers or paths.
    assert str(missing) not in raised.value.message


def test_an_unset_model_folder_names_the_variable(monkeypatch: pytest.MonkeyPatch, offline: None) -> None:
    monkeypatch.delenv("PROPORTRAIT_DIFFUSION_MODEL", raising=False)
    with pytest.raises(ModelConfigurationError, match="PROPORTRAIT_DIFFUSION_MODEL"):
        load_diffusion_renderer(device="cpu")


def test_an_incomplete_model_folder_lists_what_is_missing(tmp_path: Path, offline: None) -> None:
    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "vae").mkdir()
    with pytest.raises(ModelConfigurationError, match="missing: unet, text_encoder"):
        load_diffusion_renderer(model_dir=tmp_path, device="cpu")


def test_out_of_memory_frees_the_batch_and_says_so(
    renderer: DiffusionRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[bool] = []

    def run_out_of_memory(*args: Any, **kwargs: Any) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(type(renderer.pipeline), "__call__", run_out_of_memory)
    monkeypatch.setattr(diffusion, "_release_memory", lambda: released.append(True))
    with pytest.raises(GenerationError) as raised:
        renderer.render(synthetic_photo(), synthetic_face_analysis(), STYLE, VARIANTS, seed=1)
    assert raised.value.code == ErrorCode.OUT_OF_MEMORY
    assert released == [True]


def test_it_refuses_a_photo_that_does_not_match_its_analysis(renderer: DiffusionRenderer) -> None:
    with pytest.raises(ValueError, match="analysis"):
        renderer.render(synthetic_photo(80, 100), synthetic_face_analysis(), STYLE, VARIANTS, seed=1)


def test_the_masks_keep_the_seam_inside_the_unrepainted_part(renderer: DiffusionRenderer) -> None:
    face = np.zeros((400, 320), bool)
    face[120:260, 110:210] = True
    masks = renderer.build_masks(face, face_height=140)
    assert masks.blend[face].min() == 1.0
    # Wherever the original shows at all, the model was told to keep (not repaint) it.
    assert not (masks.repaint & (masks.blend > 0)).any()
    # Far from the face everything is repainted.
    assert masks.repaint[:40].all() and masks.repaint[-40:].all()


def test_warm_up_renders_a_throw_away_batch(renderer: DiffusionRenderer) -> None:
    assert renderer.warm_up(64, 80, variants=2) > 0
    assert set(renderer.last_timings_seconds) == {"prepare", "generate", "blend"}


def test_render_size_is_about_one_megapixel_in_whole_latents(renderer: DiffusionRenderer) -> None:
    production = renderer.configured(render_pixels=1024 * 1024)
    width, height = production.render_size(1024, 1280)
    assert width % production.size_multiple == 0 and height % production.size_multiple == 0
    assert abs(width * height - 1024 * 1024) < 0.06 * 1024 * 1024
    assert abs(width / height - 0.8) < 0.03


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_it_renders_in_bfloat16_on_the_gpu(model_dir: Path, offline: None) -> None:
    gpu_renderer = load_diffusion_renderer(model_dir=model_dir, steps=STEPS, render_pixels=64 * 80)
    assert gpu_renderer.device.type == "cuda" and gpu_renderer.dtype == torch.bfloat16
    frames = gpu_renderer.render(synthetic_photo(), synthetic_face_analysis(), STYLE, VARIANTS, seed=7)
    check_frames(frames, STYLE, VARIANTS)
