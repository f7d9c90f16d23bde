"""Starting the diffusion backend: warm-up of compiled models, and errors that stay operator-side."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from gpu_worker import pipeline
from gpu_worker.errors import DEFAULT_MESSAGES, ErrorCode, GenerationError
from gpu_worker.framing import output_size
from gpu_worker.styles import BUILTIN_STYLES


class FakeRenderer:
    def __init__(self, compiled: bool) -> None:
        self.compiled = compiled
        self.warmed: list[tuple[int, int]] = []

    def warm_up(self, width: int, height: int, variants: int = 4) -> float:
        self.warmed.append((width, height))
        return 0.0


def install_fake_backend(monkeypatch: Any, factory: Any) -> None:
    module = types.ModuleType("gpu_worker.backends.diffusion")
    module.load_diffusion_renderer = factory  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gpu_worker.backends.diffusion", module)
    import gpu_worker.backends as backends

    monkeypatch.setattr(backends, "diffusion", module, raising=False)


def test_a_compiled_model_is_warmed_up_for_every_built_in_output_size(monkeypatch: Any) -> None:
    renderer = FakeRenderer(compiled=True)
    install_fake_backend(monkeypatch, lambda: renderer)
    assert pipeline._load_diffusion_renderer() is renderer
    expected = {output_size(style) for style in BUILTIN_STYLES.values()}
    assert sorted(renderer.warmed) == sorted(expected)
    assert (1024, 1280) in expected  # the default 4:5 portrait


def test_an_eager_model_is_warmed_up_too(monkeypatch: Any) -> None:
    # cuDNN autotuning and the allocator's first growth would otherwise land in a person's job.
    renderer = FakeRenderer(compiled=False)
    install_fake_backend(monkeypatch, lambda: renderer)
    pipeline._load_diffusion_renderer()
    assert sorted(renderer.warmed) == sorted({output_size(style) for style in BUILTIN_STYLES.values()})


def test_a_start_up_failure_shows_the_person_only_the_plain_message(monkeypatch: Any) -> None:
    def broken() -> Any:
        raise GenerationError(ErrorCode.GENERATION_FAILED, "model folder /srv/models/x has no unet/")

    install_fake_backend(monkeypatch, broken)
    with pytest.raises(GenerationError) as caught:
        pipeline._load_diffusion_renderer()
    assert caught.value.message == DEFAULT_MESSAGES[ErrorCode.GENERATION_FAILED]
    assert "/srv/models" in str(caught.value.__cause__)
