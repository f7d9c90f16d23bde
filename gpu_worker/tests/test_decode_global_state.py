"""Photo validation does not depend on Pillow's process-global switches that other libraries flip."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageFile

from gpu_worker.decode import decode_photo, inspect_upload
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits


def truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((640, 640)).convert("RGB").save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    return data[: len(data) // 2]


@pytest.mark.parametrize("check", [inspect_upload, decode_photo])
def test_a_truncated_jpeg_stays_corrupt_after_another_library_allows_truncation(
    check: Any, monkeypatch: Any
) -> None:
    # weasyprint sets this to True when it is imported (the compliance PDFs run in the same
    # worker process as generation on the embedded default).
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(InputError) as caught:
        check(truncated_jpeg(), InputLimits())
    assert caught.value.code == ErrorCode.CORRUPT_IMAGE
