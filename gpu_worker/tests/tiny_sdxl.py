"""SDXL-shaped inpainting models with random weights, built from configs in code.

Nothing comes from a hub: the tokenizer's vocab.json and merges.txt are written here, every
component is created from a config under a fixed seed. The tiny configs follow the shape of
diffusers' own SDXL inpainting test components (two text encoders whose hidden states are
concatenated for cross-attention, "text_time" added conditioning, a 9-channel UNet input);
`bench/bench_diffusion.py` reuses the builder with the real SDXL sizes.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gpu_worker.analysis import FaceAnalysis

# Words whose BPE merges the tiny tokenizer knows, so prompts tokenise into a few real tokens.
MERGED_WORDS = ("studio", "portrait", "grey", "suit", "light")
# SDXL's own scheduler config (stable-diffusion-xl-base-1.0/scheduler).
SDXL_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "prediction_type": "epsilon",
}


@dataclass(frozen=True)
class SdxlConfigs:
    """Constructor arguments of each component of an SDXL inpainting pipeline."""

    unet: dict[str, Any]
    vae: dict[str, Any]
    text_encoder: dict[str, Any]
    text_encoder_2: dict[str, Any]
    scheduler: dict[str, Any] = field(default_factory=lambda: dict(SDXL_SCHEDULER_CONFIG))


def tiny_configs() -> SdxlConfigs:
    """A few-hundred-kilobyte SDXL inpainting model: two steps at 64x80 take about a second on CPU."""
    text = {
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 5,
        "projection_dim": 32,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-5,
    }
    return SdxlConfigs(
        unet={
            "block_out_channels": (32, 64),
            "layers_per_block": 2,
            "sample_size": 32,
            # latents (4) + mask (1) + masked-image latents (4): an inpainting UNet
            "in_channels": 9,
            "out_channels": 4,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "attention_head_dim": (2, 4),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "transformer_layers_per_block": (1, 2),
            # text_encoder_2 projection (32) + 6 time ids x addition_time_embed_dim (8)
            "projection_class_embeddings_input_dim": 32 + 6 * 8,
            # text_encoder (32) and text_encoder_2 (32) hidden states, concatenated
            "cross_attention_dim": 64,
        },
        vae={
            "block_out_channels": (32, 64),
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ("DownEncoderBlock2D", "DownEncoderBlock2D"),
            "up_block_types": ("UpDecoderBlock2D", "UpDecoderBlock2D"),
            "latent_channels": 4,
            "sample_size": 128,
        },
        text_encoder=dict(text),
        text_encoder_2=dict(text),
    )


def write_clip_tokenizer(folder: Path) -> Path:
    """Write a tiny CLIP BPE vocabulary (vocab.json + merges.txt) into `folder`.

    Letters, letters ending a word (CLIP's "</w>"), the two special tokens and the merges
    for MERGED_WORDS: a few dozen entries. Anything else becomes the unknown token.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in string.ascii_lowercase:
        vocab[letter] = len(vocab)
    for letter in string.ascii_lowercase:
        vocab[letter + "</w>"] = len(vocab)
    merges: list[str] = []
    for word in MERGED_WORDS:
        symbols = [*word[:-1], word[-1] + "</w>"]
        merged = symbols[0]
        for symbol in symbols[1:]:
            if f"{merged} {symbol}" not in merges:
                merges.append(f"{merged} {symbol}")
            merged += symbol
            vocab.setdefault(merged, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return folder


def build_sdxl_inpaint_pipeline(
    configs: SdxlConfigs,
    tokenizer_folder: Path,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Any:
    """An SDXL inpainting pipeline with seeded random weights, created directly on `device`."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_folder, model_max_length=77, local_files_only=True)
    # A config may name a larger vocabulary (the real 49408); the ids of the special tokens
    # always come from the tokenizer, so the encoders pool at the right end-of-text token.
    default_vocab = {"vocab_size": max(len(tokenizer), 64)}
    token_ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    # Creating modules under the device context initialises them there: a full-size UNet
    # (2.6 B parameters) takes seconds on a GPU, minutes on a CPU.
    with torch.device(device):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**configs.unet)
        torch.manual_seed(seed)
        vae = AutoencoderKL(**configs.vae)
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(CLIPTextConfig(**{**default_vocab, **configs.text_encoder, **token_ids}))
        torch.manual_seed(seed + 1)
        text_encoder_2 = CLIPTextModelWithProjection(
            CLIPTextConfig(**{**default_vocab, **configs.text_encoder_2, **token_ids})
        )
    pipeline: Any = StableDiffusionXLInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(**configs.scheduler),
        add_watermarker=False,
    )
    if dtype != torch.float32:
        pipeline.to(dtype=dtype)
    return pipeline


def save_tiny_sdxl_inpaint_model(path: Path, seed: int = 0) -> Path:
    """Save a tiny random-weight SDXL inpainting pipeline in diffusers format under `path`."""
    path = Path(path)
    tokenizer_folder = write_clip_tokenizer(path / "_tokenizer_source")
    pipeline = build_sdxl_inpaint_pipeline(tiny_configs(), tokenizer_folder, seed=seed)
    pipeline.save_pretrained(path / "model", safe_serialization=True)
    return path / "model"


def synthetic_photo(width: int = 96, height: int = 120, seed: int = 0) -> np.ndarray:
    """A smooth, colourful RGB uint8 'photo' (random enough that every pixel is distinct)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [
        127 + 80 * np.sin(x / (5 + 3 * c) + rng.uniform(0, 6)) * np.cos(y / (7 + 2 * c) + rng.uniform(0, 6))
        for c in range(3)
    ]
    noise = rng.normal(0, 6, (height, width, 3))
    return np.clip(np.stack(channels, axis=-1) + noise, 0, 255).astype(np.uint8)


def synthetic_face_analysis(width: int = 96, height: int = 120) -> FaceAnalysis:
    """A FaceAnalysis of an imaginary centred face (no detector needed): oval face mask, key points."""
    import cv2

    cx, face_top, face_bottom = width / 2, height * 0.30, height * 0.58
    face_width = (face_bottom - face_top) * 0.75
    face_mask = np.zeros((height, width), np.float32)
    centre = (round(cx), round((face_top + face_bottom) / 2))
    axes = (round(face_width / 2), round((face_bottom - face_top) / 2))
    cv2.ellipse(face_mask, centre, axes, 0, 0, 360, (1.0,), -1)
    person_mask = np.zeros((height, width), np.float32)
    cv2.ellipse(person_mask, centre, (axes[0] + 4, axes[1] + 6), 0, 0, 360, (1.0,), -1)
    person_mask[round(face_bottom) :, round(width * 0.15) : round(width * 0.85)] = 1.0
    eye_y = face_top + 0.4 * (face_bottom - face_top)
    return FaceAnalysis(
        width=width,
        height=height,
        face_box=(cx - face_width / 2, face_top, cx + face_width / 2, face_bottom),
        eye_a=(cx - face_width * 0.22, eye_y),
        eye_b=(cx + face_width * 0.22, eye_y),
        mouth=(cx, face_top + 0.8 * (face_bottom - face_top)),
        chin=(cx, face_bottom),
        forehead=(cx, face_top),
        head_top=(cx, face_top - 0.25 * (face_bottom - face_top)),
        person_mask=np.maximum(person_mask, face_mask),
        face_mask=face_mask,
        skin_mask=face_mask.copy(),
        landmarks=None,
        detection_score=0.99,
    )
