"""Speed of the `diffusion` backend: SDXL-size inpainting architecture, random weights, one GPU.

Compute cost does not depend on weight values, so random weights with the real SDXL configs
(2.6 B-parameter UNet with a 9-channel inpainting input, SDXL VAE, CLIP ViT-L and OpenCLIP
ViT-bigG text encoders) time what real weights would. The model is saved in diffusers format
and loaded back through the production loader (`load_diffusion_renderer`, which also sets
cuDNN autotuning and TF32: the benchmark sets nothing of its own). Each timed job is a whole
job through `PortraitPipeline`, as the worker runs it: decode (in the budgeted child process)
-> analyse (face detection and landmarks on a real face photo) -> render (masks, cached prompt
embeddings, VAE encode, UNet steps, VAE decode, upscale, face blend) -> finish (encode the
full-size and watermarked preview files with their XMP mark).

Bounded: the whole run, model build, save and load included, stops at --budget-s (default
480 s = 8 min); later sections are skipped when too little time is left, and a hard alarm
ends it at the budget, writing what was measured. Results go to $OUT/results.json and .md.

Measured (see docs/benchmarks-diffusion.md):
- seconds per 4-portrait job (whole job, and per stage) and portraits per minute sustained,
  production defaults (8 steps, guidance 1.0) eager and torch.compile'd (UNet and VAE decoder),
  plus a 30-step CFG reference (guidance 6);
- UNet FLOPs per forward (FlopCounterMode) and UNet TFLOP/s timed with CUDA events, against
  the GPU's dense bf16 peak;
- peak GPU memory; cold start (build, save, load, compile).

    python -m bench.bench_diffusion --out "$OUT"                  # GPU, full size, <= 8 min
    python -m bench.bench_diffusion --tiny --device cpu --out /tmp/bench   # smoke check, < 1 min
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from gpu_worker.backends.diffusion import DiffusionRenderer, load_diffusion_renderer
from gpu_worker.pipeline import _STAGE_SPANS, PortraitPipeline
from gpu_worker.schemas import Backend, GenerationRequest, Style
from gpu_worker.tests import corpus
from gpu_worker.tests.tiny_sdxl import (
    SdxlConfigs,
    build_sdxl_inpaint_pipeline,
    tiny_configs,
    write_clip_tokenizer,
)

# Dense (no sparsity) bf16 tensor-core peaks from NVIDIA's data sheets, TFLOP/s.
BF16_DENSE_PEAK_TFLOPS = {"H100 PCIe": 756.0, "H100 NVL": 835.0, "H100": 989.4, "H200": 989.4, "A100": 312.0}
# DESIGN.md "Targets": one H100/H200, SDXL-size model, a 4-portrait job decode to finished files.
TARGET_JOB_SECONDS = 1.2
TARGET_PORTRAITS_PER_MINUTE = 200.0
TARGET_UNET_PEAK_FRACTION = 0.40


def full_configs() -> SdxlConfigs:
    """stabilityai/stable-diffusion-xl-base-1.0 component configs, UNet widened to 9 input channels."""
    return SdxlConfigs(
        unet={
            "sample_size": 128,
            "in_channels": 9,
            "out_channels": 4,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            "block_out_channels": (320, 640, 1280),
            "layers_per_block": 2,
            "transformer_layers_per_block": (1, 2, 10),
            "attention_head_dim": (5, 10, 20),
            "cross_attention_dim": 2048,
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 2816,  # 1280 pooled text + 6 time ids x 256
            "norm_num_groups": 32,
            "norm_eps": 1e-5,
            "act_fn": "silu",
            "flip_sin_to_cos": True,
            "freq_shift": 0,
        },
        vae={
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4,
            "block_out_channels": (128, 256, 512, 512),
            "layers_per_block": 2,
            "latent_channels": 4,
            "norm_num_groups": 32,
            "sample_size": 1024,
            "scaling_factor": 0.13025,
            "force_upcast": True,
        },
        text_encoder={  # CLIP ViT-L/14 text tower
            "vocab_size": 49408,
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_attention_heads": 12,
            "num_hidden_layers": 12,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "projection_dim": 768,
        },
        text_encoder_2={  # OpenCLIP ViT-bigG/14 text tower
            "vocab_size": 49408,
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_attention_heads": 20,
            "num_hidden_layers": 32,
            "max_position_embeddings": 77,
            "hidden_act": "gelu",
            "projection_dim": 1280,
        },
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and results.md")
    parser.add_argument("--tiny", action="store_true", help="tiny configs: a smoke check, not a measurement")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, help="output side in pixels (default 1024, tiny 64)")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--steps", type=int, help="production steps (default 8, tiny 2)")
    parser.add_argument("--reference-steps", type=int, help="CFG reference steps (default 30, tiny 3)")
    parser.add_argument("--reference-guidance", type=float, default=6.0)
    parser.add_argument("--jobs", type=int, help="jobs per timed run (default 6, tiny 2)")
    parser.add_argument("--compile-mode", default="reduce-overhead", help='or "max-autotune-no-cudagraphs"')
    parser.add_argument(
        "--compile-backend",
        help='torch.compile backend (default "inductor"; tiny on CPU: "eager", trace only)',
    )
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=480.0,
        help="the whole run, build included, stops here (default 8 min)",
    )
    parser.add_argument("--work-dir", type=Path, help="where the random model is saved (default: temp)")
    args = parser.parse_args()
    args.size = args.size or (64 if args.tiny else 1024)
    args.steps = args.steps or (2 if args.tiny else 8)
    args.reference_steps = args.reference_steps or (3 if args.tiny else 30)
    args.jobs = args.jobs or (2 if args.tiny else 6)
    # Inductor's C++ code generation takes minutes on a small CPU; the smoke check only needs
    # to prove the compile path runs, which TorchDynamo tracing alone does.
    args.compile_backend = args.compile_backend or (
        "eager" if args.tiny and args.device == "cpu" else "inductor"
    )
    return args


class Clock:
    """Wall time with device synchronisation, and the remaining budget."""

    def __init__(self, device: torch.device, budget_s: float) -> None:
        self.device = device
        self.started = time.perf_counter()
        self.budget_s = budget_s

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextmanager
    def timed(self, into: dict[str, Any], key: str) -> Any:
        self.sync()
        started = time.perf_counter()
        yield
        self.sync()
        into[key] = round(time.perf_counter() - started, 4)

    def remaining(self) -> float:
        return self.budget_s - (time.perf_counter() - self.started)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2)


def unet_inputs(renderer: DiffusionRenderer, batch: int, width: int, height: int) -> tuple[tuple, dict]:
    """UNet arguments at the pipeline's batch shape, in the form the pipeline passes them."""
    unet = renderer.pipeline.unet
    config = unet.config
    scale = renderer.pipeline.vae_scale_factor
    pooled = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    options: dict[str, Any] = {"device": renderer.device, "dtype": renderer.dtype}
    sample = torch.randn(batch, config.in_channels, height // scale, width // scale, **options)
    timestep = torch.tensor(999.0, device=renderer.device)
    kwargs = {
        "encoder_hidden_states": torch.randn(batch, 77, config.cross_attention_dim, **options),
        "timestep_cond": None,
        "cross_attention_kwargs": None,
        "added_cond_kwargs": {
            "text_embeds": torch.randn(batch, pooled, **options),
            "time_ids": torch.tensor([[height, width, 0, 0, height, width]] * batch, **options),
        },
        "return_dict": False,
    }
    return (sample, timestep), kwargs


def count_unet_flops(renderer: DiffusionRenderer, batch: int, width: int, height: int) -> int:
    """FLOPs of one UNet forward (eager) at this batch shape."""
    from torch.utils.flop_counter import FlopCounterMode

    args, kwargs = unet_inputs(renderer, batch, width, height)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        renderer.pipeline.unet(*args, **kwargs)
    return int(counter.get_total_flops())


class StepTimer:
    """Times denoising steps inside real jobs, from the renderer's per-step progress reports.

    The renderer reports progress from the pipeline's step-end callback, i.e. right after each
    UNet forward and scheduler update; the interval between two consecutive reports is one
    step: a UNet forward plus a few element-wise scheduler ops. CUDA events keep this honest
    with asynchronous kernels, and nothing is added inside the (possibly compiled) UNet.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.marks: list[Any] = []
        self.intervals_ms: list[float] = []

    def __call__(self, fraction: float) -> None:
        if not 0.0 < fraction < 1.0:
            return
        if self.device.type == "cuda":
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def finish_job(self) -> None:
        """Collect the intervals of the job just rendered (the first step has no start mark)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            pairs = zip(self.marks, self.marks[1:], strict=False)
            self.intervals_ms += [start.elapsed_time(end) for start, end in pairs]
        else:
            self.intervals_ms += [
                (end - start) * 1000 for start, end in zip(self.marks, self.marks[1:], strict=False)
            ]
        self.marks = []


def run_jobs(
    renderer: DiffusionRenderer, job: Callable[..., Any], jobs: int, clock: Clock, steps: StepTimer
) -> dict[str, Any]:
    """Time `jobs` jobs one by one, then `jobs` more back to back (sustained throughput)."""
    per_job: list[float] = []
    stages: list[dict[str, float]] = []
    for _ in range(jobs):
        clock.sync()
        started = time.perf_counter()
        result = job(renderer, steps)
        clock.sync()
        per_job.append(time.perf_counter() - started)
        steps.finish_job()
        # The pipeline's stages (decode, analyse, render, finish), then the render's own parts.
        stages.append(
            {**result.timings_seconds, **{f"render.{k}": v for k, v in renderer.last_timings_seconds.items()}}
        )
    clock.sync()
    started = time.perf_counter()
    for _ in range(jobs):
        job(renderer)
    clock.sync()
    sustained = time.perf_counter() - started
    return {
        "job_seconds_median": round(statistics.median(per_job), 4),
        "job_seconds_min": round(min(per_job), 4),
        "job_seconds_all": [round(value, 4) for value in per_job],
        "stage_seconds_median": {
            key: round(statistics.median(s[key] for s in stages), 4) for key in stages[0]
        },
        "sustained_jobs": jobs,
        "sustained_seconds": round(sustained, 4),
        "portraits_per_minute": round(60.0 * jobs * renderer_variants(job) / sustained, 1),
    }


def renderer_variants(job: Callable[..., Any]) -> int:
    return int(getattr(job, "variants", 4))


def bf16_peak(device_name: str) -> float | None:
    for key, peak in BF16_DENSE_PEAK_TFLOPS.items():
        if key in device_name:
            return peak
    return None


def measure_configuration(
    name: str,
    renderer: DiffusionRenderer,
    job: Callable[..., Any],
    args: argparse.Namespace,
    clock: Clock,
    flops_per_forward: int,
    batch: int,
    peak_tflops: float | None,
    jobs: int,
) -> dict[str, Any]:
    """First job (warm-up, compile), timed jobs, UNet speed and peak memory of one configuration."""
    result: dict[str, Any] = {
        "steps": renderer.settings.steps,
        "guidance_scale": renderer.settings.guidance_scale,
        "scheduler": renderer.settings.scheduler,
        "compiled": renderer.compiled,
        "unet_batch": batch,
    }
    reset_peak_memory(renderer.device)
    with clock.timed(result, "first_job_seconds"):
        job(renderer)
    steps = StepTimer(renderer.device)
    result.update(run_jobs(renderer, job, jobs, clock, steps))
    unet_ms = statistics.median(steps.intervals_ms)
    forwards = renderer.settings.steps
    unet_tflops = flops_per_forward / (unet_ms / 1000) / 1e12
    result.update(
        {
            # median denoising step inside the jobs: one UNet forward + the scheduler update
            "unet_ms_per_forward": round(unet_ms, 3),
            "unet_tflops_per_second": round(unet_tflops, 2),
            "unet_fraction_of_bf16_peak": round(unet_tflops / peak_tflops, 3) if peak_tflops else None,
            # Share of the job the UNet steps take; the rest is text, VAE, blend and overhead.
            "unet_share_of_job": round(forwards * unet_ms / 1000 / result["job_seconds_median"], 3),
            "peak_memory_gib": peak_memory_gib(renderer.device),
        }
    )
    print(f"[{name}] {json.dumps(result)}", flush=True)
    return result


def make_job(args: argparse.Namespace) -> Callable[..., Any]:
    """One whole portrait job as the worker runs it: a JPEG of a real face (scikit-image's
    astronaut on a wall, 1.2x by 1.5x the output side, at least 1229x1536 so the face is
    always large enough) through `PortraitPipeline`."""
    side = max(args.size, 1024)
    photo = corpus.encode(corpus.large_pixels(round(side * 1.2), round(side * 1.5)), "JPEG", quality=92)
    style = Style(
        slug="bench",
        name="Bench",
        description="",
        backdrop_colours=("#8a8d91",),
        prompt="professional studio headshot, grey backdrop, navy suit, soft key light",
        negative_prompt="blurry, distorted",
        aspect="1:1",
        output_long_side=args.size,
    )
    render_start, render_end = _STAGE_SPANS["render"]

    def job(renderer: DiffusionRenderer, steps: Callable[[float], None] | None = None) -> Any:
        def progress(stage: str, fraction: float) -> None:
            # The step timer wants the render's own progress (0..1), not the whole job's.
            if steps is not None and stage == "render":
                steps((fraction - render_start) / (render_end - render_start))

        request = GenerationRequest(
            job_id="bench",
            photo=photo,
            style=style,
            variants=args.variants,
            seed=1234,
            backend=Backend.DIFFUSION,
            progress=progress,
        )
        return PortraitPipeline(renderer, Backend.DIFFUSION)(request)

    job.variants = args.variants  # type: ignore[attr-defined]
    return job


def write_report(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    meta = results["meta"]
    kind = "TINY SMOKE CHECK, not a performance figure" if meta["tiny"] else "SDXL size"
    lines = [
        f"# Diffusion backend benchmark ({kind})",
        "",
        f"- device: {meta['device_name']} ({meta['device']}), dtype {meta['dtype']}, torch {meta['torch']}",
        f"- output {meta['size']}x{meta['size']}, {meta['variants']} portraits per job, random weights",
        f"- UNet FLOPs per forward: {results['flops']}",
        f"- bf16 dense peak used: {meta['bf16_peak_tflops']} TFLOP/s",
        f"- cold start: {json.dumps(results['cold_start'])}",
        "",
        "| configuration | s / job (median) | portraits / min | UNet ms / fwd | UNet TFLOP/s | of peak "
        "| UNet share | peak GiB | first job s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in results["runs"].items():
        lines.append(
            f"| {name} | {run['job_seconds_median']} | {run['portraits_per_minute']} "
            f"| {run['unet_ms_per_forward']} | {run['unet_tflops_per_second']} "
            f"| {run['unet_fraction_of_bf16_peak']} | {run['unet_share_of_job']} "
            f"| {run['peak_memory_gib']} | {run['first_job_seconds']} |"
        )
    if results["targets"]:
        lines += ["", "Targets (DESIGN.md): " + json.dumps(results["targets"])]
    if results["skipped"]:
        lines += ["", "Skipped: " + "; ".join(results["skipped"])]
    if "error" in results:
        lines += ["", "Stopped by an error: " + results["error"]]
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    clock = Clock(device, args.budget_s)

    def out_of_time(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the {args.budget_s:.0f} s budget ran out")

    # The hard stop: whatever runs (a compile, a job) is interrupted and the report written.
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(max(1, int(args.budget_s)))
    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    )
    peak = bf16_peak(device_name) if device.type == "cuda" else None
    results: dict[str, Any] = {
        "meta": {
            "tiny": args.tiny,
            "device": str(device),
            "device_name": device_name,
            "dtype": str(dtype),
            "torch": torch.__version__,
            "size": args.size,
            "variants": args.variants,
            "bf16_peak_tflops": peak,
        },
        "cold_start": {},
        "flops": {},
        "runs": {},
        "targets": {},
        "skipped": [],
    }
    print(f"device: {device_name}, dtype {dtype}", flush=True)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-diffusion-", dir=args.work_dir))
    try:
        # 1. Cold start: build random weights, save in diffusers format, load through production code.
        cold = results["cold_start"]
        with clock.timed(cold, "build_seconds"):
            pipeline = build_sdxl_inpaint_pipeline(
                tiny_configs() if args.tiny else full_configs(),
                write_clip_tokenizer(work_dir / "tokenizer"),
                device=device,
                dtype=dtype,
            )
        cold["unet_parameters"] = sum(p.numel() for p in pipeline.unet.parameters())
        with clock.timed(cold, "save_seconds"):
            pipeline.save_pretrained(work_dir / "model", safe_serialization=True)
        del pipeline
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        with clock.timed(cold, "load_seconds"):
            # Eager first (compile=False): the compiled configuration is measured after it.
            renderer = load_diffusion_renderer(
                work_dir / "model",
                device=device,
                dtype=dtype,
                steps=args.steps,
                render_pixels=args.size**2,
                compile=False,
            )
        results["meta"]["loader_settings"] = {
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "vae_force_upcast": bool(renderer.pipeline.vae.config.force_upcast),
        }
        job = make_job(args)

        # 2. UNet FLOPs per forward at the production (no CFG) and reference (CFG: 2x) batch.
        flops = results["flops"]
        flops["unet_forward_batch_variants"] = count_unet_flops(renderer, args.variants, args.size, args.size)
        flops["unet_forward_batch_2x_variants"] = count_unet_flops(
            renderer, 2 * args.variants, args.size, args.size
        )
        print(f"UNet FLOPs per forward: {flops}", flush=True)

        # 3. Production defaults, eager.
        results["runs"]["production eager"] = measure_configuration(
            "production eager",
            renderer,
            job,
            args,
            clock,
            flops["unet_forward_batch_variants"],
            args.variants,
            peak,
            args.jobs,
        )

        # 4. Reference: a non-distilled checkpoint's settings, 30 steps with CFG (UNet batch doubles).
        # 5 jobs (first, 2 timed, 2 sustained), each ~2 x steps / production steps as long.
        slowdown = 2 * args.reference_steps / args.steps
        reference_estimate = 5 * slowdown * results["runs"]["production eager"]["job_seconds_median"]
        if args.no_reference:
            results["skipped"].append("reference: --no-reference")
        elif clock.remaining() < reference_estimate:
            results["skipped"].append(f"reference: {clock.remaining():.0f} s left of the budget")
        else:
            reference = renderer.configured(
                steps=args.reference_steps, guidance_scale=args.reference_guidance, scheduler="euler"
            )
            results["runs"][f"reference {args.reference_steps} steps CFG eager"] = measure_configuration(
                "reference",
                reference,
                job,
                args,
                clock,
                flops["unet_forward_batch_2x_variants"],
                2 * args.variants,
                peak,
                jobs=2,
            )
            del reference

        # 5. Production defaults, torch.compile'd UNet and VAE decoder (compiles in its first job).
        mode = args.compile_mode
        if device.type == "cpu" and mode == "reduce-overhead":
            mode = "default"  # CUDA graphs do not exist on CPU
        if args.compile_backend != "inductor":
            mode = f"backend {args.compile_backend}"
        compile_estimate = 20.0 if args.tiny else 240.0
        if args.no_compile:
            results["skipped"].append("compile: --no-compile")
        elif clock.remaining() < compile_estimate:
            results["skipped"].append(f"compile: {clock.remaining():.0f} s left of the budget")
        else:
            renderer.compile_unet(mode, backend=args.compile_backend)
            run = measure_configuration(
                f"production compiled ({mode})",
                renderer,
                job,
                args,
                clock,
                flops["unet_forward_batch_variants"],
                args.variants,
                peak,
                args.jobs,
            )
            results["runs"][f"production compiled ({mode})"] = run
            cold["compile_first_job_seconds"] = run["first_job_seconds"]

        # 6. Targets, judged on the best production configuration.
        production = [run for name, run in results["runs"].items() if name.startswith("production")]
        if production and not args.tiny and device.type == "cuda":
            best = min(production, key=lambda run: run["job_seconds_median"])
            fraction = max(run["unet_fraction_of_bf16_peak"] or 0 for run in production)
            results["targets"] = {
                "job_at_most_1_2_s": best["job_seconds_median"] <= TARGET_JOB_SECONDS,
                "at_least_200_portraits_per_minute": best["portraits_per_minute"]
                >= TARGET_PORTRAITS_PER_MINUTE,
                "unet_at_40_percent_of_bf16_peak": fraction >= TARGET_UNET_PEAK_FRACTION,
            }
        results["total_seconds"] = round(time.perf_counter() - clock.started, 1)
    except Exception as error:
        # Keep what was measured; say where it stopped.
        results["error"] = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        signal.alarm(0)
        write_report(args.out, results)
        shutil.rmtree(work_dir, ignore_errors=True)
    print((args.out / "results.md").read_text(encoding="utf-8"), flush=True)


if __name__ == "__main__":
    main()
