"""Reading uploaded photos safely: check the structure, then decode under a CPU budget.

Two entry points share the same structure check (`gpu_worker.structure`), so the web tier and
the worker can never disagree about what a file is:

- `inspect_upload` runs on the web tier for every upload. It decodes nothing: the structure
  check reads headers, markers and chunks in one pass, so its cost is bounded by the byte cap
  whatever the file claims. A file that is well formed but holds corrupt image data passes it;
  the worker finds that out and fails the job with `corrupt_image`.
- `decode_photo` runs in the worker and returns RGB uint8 pixels, oriented, colour-managed to
  sRGB and downscaled to a working resolution early (the DCT decoder does most of it for free).
  The decode itself runs in a child process with a CPU-time limit and a wall-clock limit
  (`InputLimits.decode_cpu_seconds`, `decode_wall_seconds`): a decoder that spends longer on
  one file is killed and the job fails with `image_too_complex`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import struct
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from gpu_worker.errors import ErrorCode, GenerationError, InputError
from gpu_worker.schemas import InputLimits, UploadInfo
from gpu_worker.structure import MIME_TYPES, Structure, StructureError, check_structure

pillow_heif.register_heif_opener()
logger = logging.getLogger(__name__)

# Pillow's own decompression-bomb guard stays on as a backstop for any code path that opens
# images without these checks; the explicit check against InputLimits.max_pixels is the one
# that decides. The warning it emits between 1x and 2x the limit is redundant with that check,
# so it is silenced (it would otherwise be logged for every large upload).
Image.MAX_IMAGE_PIXELS = InputLimits().max_pixels
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Long side of the pixels the worker analyses and renders from. Outputs are ~1280 px and the
# head-and-shoulders crop is a part of the photo, so 2048 keeps full detail at a fraction of
# the cost of 12 MP.
WORKING_LONG_SIDE = 2048
# JPEG draft decoding may land anywhere between this fraction of the working size and it.
DRAFT_TOLERANCE = 0.75

# Background for transparent inputs: white is what the person saw in their viewer.
ALPHA_BACKGROUND = (255, 255, 255)

# Pillow's format names for what each sniffed kind may be parsed as.
_PIL_FORMATS = {"JPEG": ["JPEG"], "PNG": ["PNG"], "WEBP": ["WEBP"], "HEIF": ["HEIF"]}


def inspect_upload(data: bytes, limits: InputLimits) -> UploadInfo:
    """Validate an upload by its structure and describe it (web tier, every upload).

    Decodes nothing; see `gpu_worker.structure`. Width and height are as displayed, i.e.
    after EXIF orientation (or HEIF rotation).

    Raises:
        InputError: file_too_large, unsupported_format, image_too_large, image_too_complex or
            corrupt_image.
    """
    structure = _checked(data, limits)
    width, height = structure.displayed_size
    return UploadInfo(
        format=structure.format, width=width, height=height, mime_type=MIME_TYPES[structure.format]
    )


def _open(data: bytes, structure: Structure, limits: InputLimits) -> Image.Image:
    """Open a structurally checked file; Pillow parses the header only."""
    # Pillow's truncated-image switch is process-global and other libraries flip it on when
    # imported (weasyprint does). A truncated upload must stay `corrupt_image`, whoever else
    # runs in this process.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(io.BytesIO(data), formats=_PIL_FORMATS[structure.format])
    except Image.DecompressionBombError as error:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise InputError(ErrorCode.CORRUPT_IMAGE) from error
    width, height = image.size
    # The decoder must see what the structure check saw (HEIF sizes are after rotation).
    if width * height > limits.max_pixels or width <= 0 or height <= 0:
        raise InputError(ErrorCode.CORRUPT_IMAGE)
    return image


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile when there is one (CMYK print files, Display P3
    phone photos); otherwise Pillow's plain conversion."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in {"RGB", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB")


def _flatten(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB: 16-bit and float scaled, alpha composited, palettes expanded."""
    mode = image.mode
    if mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        values = np.asarray(image, dtype=np.float32)
        # 16-bit files use 0..65535; an "I" image that happens to hold 8-bit values stays as is.
        peak = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if mode == "F" and values.max(initial=0) <= 1.0:
            peak = 1.0
        grey = np.clip(values * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in {"P", "PA"}:
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode in {"RGBA", "LA", "La", "RGBa"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in {"RGB", "CMYK"}:
        return _to_srgb(image)
    return image.convert("RGB")  # L, 1, YCbCr, LAB, HSV


def decode_photo(data: bytes, limits: InputLimits, max_long_side: int = WORKING_LONG_SIDE) -> np.ndarray:
    """Decode a photo for the pipeline: HxWx3 RGB uint8, oriented, sRGB, long side <= max.

    The structure check runs first, in this process, so a bomb or a crafted file is refused
    before any decoding. The decode runs in a child process under the CPU and wall-clock
    budgets of `limits`. Animated files (APNG, animated WebP) give their first frame; all
    metadata is dropped.

    Raises:
        InputError: file_too_large, unsupported_format, image_too_large, image_too_complex
            (over the decode budget) or corrupt_image.
        GenerationError: generation_failed, when the decoding process fails for a reason
            that is not the photo's (it could not start, or crashed with an unexpected error).
    """
    structure = _checked(data, limits)
    return decode_with_budget(data, structure, limits, max_long_side)


def _checked(data: bytes, limits: InputLimits) -> Structure:
    """`check_structure`, logging which rule refused a file (sizes and chunk names only, never
    image data), so an operator can tell a crafted file from a camera we do not yet accept."""
    try:
        return check_structure(data, limits)
    except StructureError as error:
        logger.info("photo refused by its structure: %s (%s)", error.code.value, error.detail)
        raise


def decode_checked(
    data: bytes, structure: Structure, limits: InputLimits, max_long_side: int = WORKING_LONG_SIDE
) -> np.ndarray:
    """The decode itself, in this process and without a budget: only for a file that passed
    `check_structure`, inside the budgeted child (or a test that measures it)."""
    image = _open(data, structure, limits)
    width, height = image.size
    factor = max_long_side / max(width, height)
    try:
        if structure.format == "JPEG" and factor < 1.0:
            # Let the DCT do the downscale (1/2, 1/4 or 1/8). Accepting down to 3/4 of the
            # target keeps a 4000x3000 photo at 2000x1500 instead of a full 12 MP decode.
            draft_factor = factor * DRAFT_TOLERANCE
            image.draft(image.mode, (max(1, int(width * draft_factor)), max(1, int(height * draft_factor))))
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image) or image
        image = _flatten(image)
        if max(image.size) > max_long_side:
            image.thumbnail((max_long_side, max_long_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        pixels = np.asarray(image, dtype=np.uint8)
    except Image.DecompressionBombError as error:
        raise InputError(ErrorCode.IMAGE_TOO_LARGE) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise InputError(ErrorCode.CORRUPT_IMAGE) from error
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError(ErrorCode.CORRUPT_IMAGE)
    return np.ascontiguousarray(pixels)


# The decode child is forked from a small, single-threaded server process that has imported
# this module (and Pillow, pillow-heif, numpy) once, never from the worker itself: a worker
# may hold threads (torch, CUDA) that a fork would copy in an unknown state.
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["gpu_worker.decode"])


def _forget_inherited_forkserver() -> None:
    # A forked process (a Celery prefork pool child) starts its own decode server: the one it
    # inherited belongs to its parent and cannot be waited on or reused from here.
    server: Any = multiprocessing.forkserver._forkserver  # type: ignore[attr-defined]
    server._forkserver_address = None
    server._forkserver_alive_fd = None
    server._forkserver_pid = None


os.register_at_fork(after_in_child=_forget_inherited_forkserver)


def decode_with_budget(
    data: bytes, structure: Structure, limits: InputLimits, max_long_side: int = WORKING_LONG_SIDE
) -> np.ndarray:
    """`decode_checked` in a fresh child process, killed past the CPU or wall-clock budget.

    The photo travels to the child through a pipe and the pixels come back the same way:
    memory only, never a file. A child per photo also means no photo outlives its decode in
    a long-lived process.
    """
    receiver, sender = _context.Pipe(duplex=False)
    try:
        with _without_main_module():
            # Made inside: a Process copies the current process's config (authkey) when made.
            child = _context.Process(
                target=_decode_child,
                args=(sender, data, structure, limits, max_long_side),
                name="proportrait-decode",
                daemon=True,
            )
            child.start()
    except OSError as error:
        raise GenerationError(ErrorCode.GENERATION_FAILED, "the decoder could not start") from error
    sender.close()
    try:
        message = receiver.recv() if receiver.poll(limits.decode_wall_seconds) else None
    except EOFError:
        message = None  # the child died before it answered: killed by its CPU limit, or crashed
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if message is None:
        if child.exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
            logger.warning("decode stopped at its budget (exit %s)", child.exitcode)
            raise InputError(ErrorCode.IMAGE_TOO_COMPLEX)
        # Log the exit only: nothing about the photo.
        logger.error("decode process died (exit %s)", child.exitcode)
        raise InputError(ErrorCode.CORRUPT_IMAGE)
    kind, payload = message
    if kind == "pixels":
        shape, buffer = payload
        return np.frombuffer(buffer, dtype=np.uint8).reshape(shape).copy()
    if kind == "input_error":
        raise InputError(ErrorCode(payload))
    if kind == "memory":
        raise MemoryError("decoding the photo ran out of memory")
    logger.error("decode failed: %s", payload)
    raise GenerationError(ErrorCode.GENERATION_FAILED)


_main_swap = threading.Lock()


@contextlib.contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a child without telling it the parent's main module.

    multiprocessing makes every new child import the parent's `__main__` (a Celery worker's
    script, a benchmark that imports torch: seconds per photo). The decode child needs only
    this module, so while the child's start-up data is written, `__main__` is a bare module.
    """
    with _main_swap:
        saved = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        # A Celery prefork pool runs tasks in daemonic processes, and multiprocessing refuses to
        # start a child from one ("daemonic processes are not allowed to have children"): that
        # rule exists so a daemon's children are not orphaned when it exits. The decode child is
        # bounded by its own CPU limit and is killed past the wall-clock budget, so it may start.
        # Celery's pool (billiard) also swaps in its own authkey type, which refuses to be
        # pickled into the forkserver's start-up data; the same key as the standard type is.
        config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
        saved_config = {key: config[key] for key in ("daemon", "authkey") if key in config}
        config["daemon"] = False
        if "authkey" in config:
            config["authkey"] = multiprocessing.process.AuthenticationString(  # type: ignore[attr-defined]
                bytes(config["authkey"])
            )
        try:
            yield
        finally:
            config.pop("daemon", None)
            config.update(saved_config)
            sys.modules["__main__"] = saved


def _decode_child(
    sender: Connection, data: bytes, structure: Structure, limits: InputLimits, max_long_side: int
) -> None:
    """In the child: set the CPU limit, decode, send pixels or an error code, exit."""
    # Past the soft limit the kernel sends SIGXCPU, whose default action ends the process.
    cpu_seconds = max(1, int(limits.decode_cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    message: tuple[str, Any]
    try:
        pixels = decode_checked(data, structure, limits, max_long_side)
        message = ("pixels", (pixels.shape, pixels.tobytes()))
    except InputError as error:
        message = ("input_error", error.code.value)
    except MemoryError:
        message = ("memory", None)
    except Exception as error:  # reported by type only: exception text could quote image data
        message = ("crash", type(error).__name__)
    sender.send(message)
    sender.close()
