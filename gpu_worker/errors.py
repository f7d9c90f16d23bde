"""Errors the pipeline raises. Each carries one of the documented API error codes."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    UNSUPPORTED_FORMAT = "unsupported_format"
    FILE_TOO_LARGE = "file_too_large"
    IMAGE_TOO_LARGE = "image_too_large"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_COMPLEX = "image_too_complex"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    PHOTO_TOO_SMALL = "photo_too_small"
    GENERATION_FAILED = "generation_failed"
    OUT_OF_MEMORY = "out_of_memory"
    ORIGINAL_UNAVAILABLE = "original_unavailable"


# ruff: noqa: E501  (plain-language messages read best unbroken)
DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.UNSUPPORTED_FORMAT: "This file is not a JPEG, PNG, WebP or HEIC photo. Please choose one of those.",
    ErrorCode.FILE_TOO_LARGE: "The file is too large. Please upload a photo under the size limit.",
    ErrorCode.IMAGE_TOO_LARGE: "The image has too many pixels. Please upload a smaller photo.",
    ErrorCode.CORRUPT_IMAGE: "The file could not be read as an image. It may be damaged; please try another photo.",
    ErrorCode.IMAGE_TOO_COMPLEX: "This file is built in an unusual way that would take too long to read. Please export it again as an ordinary JPEG and retry.",
    ErrorCode.NO_FACE: "We could not find a face. Please upload a clear, front-facing photo of one person.",
    ErrorCode.MULTIPLE_FACES: "We found more than one face. Please upload a photo with only you in it.",
    ErrorCode.FACE_TOO_SMALL: "Your face is too small in this photo. Please use a closer photo, head and shoulders.",
    ErrorCode.PHOTO_TOO_SMALL: "This photo is too small for a sharp portrait. Please upload a larger or less cropped photo.",
    ErrorCode.GENERATION_FAILED: "Something went wrong while creating your portraits. Your photo was deleted; please try again.",
    ErrorCode.OUT_OF_MEMORY: "The generator ran out of memory. Your photo was deleted; please try again later.",
    ErrorCode.ORIGINAL_UNAVAILABLE: "Your photo could no longer be opened: its key is kept only in memory, for a few minutes, and it was gone before we could start. Nothing of your photo was kept; please upload it again.",
}


class PipelineError(Exception):
    """Base class: `code` is an ErrorCode, `message` is plain language for the person."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = ErrorCode(code)
        self.message = message or DEFAULT_MESSAGES[self.code]
        super().__init__(f"{self.code}: {self.message}")


class InputError(PipelineError):
    """The photo itself is unusable (format, size, decoding, faces). Retrying will not help."""


class GenerationError(PipelineError):
    """Generation failed for a reason that is not the photo's fault (crash, out of memory)."""
