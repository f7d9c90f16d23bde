"""The diffusion backend runs the configuration the benchmark measures: no fp32 VAE round trip
in bf16, prompt embeddings once per style, compile of the UNet and VAE decoder on by default on
GPUs with a persistent cache, and the loader's cuDNN/TF32 settings. Tiny random weights, CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from gpu_worker.backends import diffusion
from gpu_worker.backends.diffusion import DiffusionRenderer, load_diffusion_renderer
from gpu_worker.tests.test_diffusion import STEPS, STYLE, model_dir, offline  # noqa: F401  (fixtures)
from gpu_worker.tests.tiny_sdxl import synthetic_face_analysis, synthetic_photo


def _load(folder: Path, dtype: torch.dtype = torch.float32, **options: Any) -> DiffusionRenderer:
    return load_diffusion_renderer(
        model_dir=folder, device="cpu", dtype=dtype, steps=STEPS, render_pixels=64 * 80, **options
    )


def _render(renderer: DiffusionRenderer, style: Any = STYLE) -> list[Any]:
    return renderer.render(synthetic_photo(), synthetic_face_analysis(), style, 2, seed=3)


def test_bfloat16_keeps_the_vae_in_bfloat16(model_dir: Path, offline: None) -> None:  # noqa: F811
    renderer = _load(model_dir, torch.bfloat16)
    assert renderer.pipeline.vae.config.force_upcast is False
    seen: list[torch.dtype] = []
    for part in (renderer.pipeline.vae.encoder, renderer.pipeline.vae.decoder):
        part.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].dtype))
    casts: list[Any] = []
    original_to = renderer.pipeline.vae.to

    def spy_to(*args: Any, **kwargs: Any) -> Any:
        casts.append(kwargs.get("dtype", args[0] if args else None))
        return original_to(*args, **kwargs)

    renderer.pipeline.vae.to = spy_to  # type: ignore[method-assign]
    frames = _render(renderer)
    assert len(frames) == 2
    assert seen and set(seen) == {torch.bfloat16}  # encode and decode ran in bf16
    assert torch.float32 not in casts  # the VAE was never cast to fp32 and back
    assert next(renderer.pipeline.vae.parameters()).dtype == torch.bfloat16


def test_other_dtypes_keep_the_configured_upcast(model_dir: Path, offline: None) -> None:  # noqa: F811
    # Only bf16 drops it: fp16 really overflows in the SDXL VAE.
    import json

    saved = json.loads((model_dir / "vae" / "config.json").read_text()).get("force_upcast", True)
    assert saved is True
    assert _load(model_dir, torch.float32).pipeline.vae.config.force_upcast is True


def test_prompt_embeddings_are_computed_once_per_style(model_dir: Path, offline: None) -> None:  # noqa: F811
    renderer = _load(model_dir)
    calls: list[int] = []
    for encoder in (renderer.pipeline.text_encoder, renderer.pipeline.text_encoder_2):
        encoder.register_forward_pre_hook(lambda module, inputs: calls.append(1))
    first = _render(renderer)
    after_first = len(calls)
    assert after_first > 0
    second = _render(renderer)
    assert len(calls) == after_first  # the second job of the style encoded nothing
    # The cached embeddings give exactly what encoding them again gives.
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    from dataclasses import replace

    _render(renderer, replace(STYLE, slug="other", prompt="a different prompt"))
    assert len(calls) > after_first  # a new prompt is encoded


def test_compile_is_on_by_default_on_gpus_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(diffusion.COMPILE_VARIABLE, raising=False)
    assert diffusion.compile_by_default(torch.device("cuda")) is True
    assert diffusion.compile_by_default(torch.device("cpu")) is False
    monkeypatch.setenv(diffusion.COMPILE_VARIABLE, "0")
    assert diffusion.compile_by_default(torch.device("cuda")) is False
    monkeypatch.setenv(diffusion.COMPILE_VARIABLE, "1")
    assert diffusion.compile_by_default(torch.device("cpu")) is True


def test_compile_covers_the_unet_and_the_vae_decoder(model_dir: Path, offline: None) -> None:  # noqa: F811
    renderer = _load(model_dir)
    eager = _render(renderer)
    # "eager" traces with TorchDynamo without code generation: cheap on CPU, same path.
    renderer.compile_unet(backend="eager")
    assert renderer.compiled
    assert renderer.pipeline.unet._compiled_call_impl is not None
    assert renderer.pipeline.vae.decoder._compiled_call_impl is not None
    compiled = _render(renderer)
    assert all((abs(a.astype(int) - b.astype(int)) <= 1).all() for a, b in zip(eager, compiled, strict=True))


def test_compiled_graphs_go_to_the_persistent_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_inductor: None
) -> None:
    monkeypatch.setenv(diffusion.COMPILE_CACHE_VARIABLE, str(tmp_path / "inductor"))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    folder = diffusion.use_compile_cache()
    import torch._inductor.config as inductor_config

    assert folder == tmp_path / "inductor" and folder.is_dir()
    import os

    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(folder)
    assert inductor_config.fx_graph_cache is True


def test_the_loader_sets_what_the_benchmark_measures(restore_backends: None) -> None:
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    diffusion.configure_torch(torch.device("cpu"))
    assert torch.backends.cudnn.benchmark is False  # nothing changes for CPU
    diffusion.configure_torch(torch.device("cuda"))
    assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cuda.matmul.allow_tf32 is True
    assert torch.backends.cudnn.allow_tf32 is True


@pytest.fixture
def restore_backends() -> Iterator[None]:
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cuda.matmul.allow_tf32,
        torch.get_float32_matmul_precision(),
    )
    yield
    torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32 = saved[0], saved[1]
    torch.backends.cuda.matmul.allow_tf32 = saved[2]
    torch.set_float32_matmul_precision(saved[3])


@pytest.fixture
def restore_inductor() -> Iterator[None]:
    import torch._inductor.config as inductor_config

    saved = (inductor_config.fx_graph_cache, inductor_config.autotune_local_cache)
    yield
    inductor_config.fx_graph_cache, inductor_config.autotune_local_cache = saved
