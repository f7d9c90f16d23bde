"""Memory-only upload handling with a hard byte cap: an upload never touches the disk."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, SkipFile


class CappedMemoryUploadHandler(MemoryFileUploadHandler):
    """Keeps uploads in memory; a file over PROPORTRAIT_MAX_UPLOAD_BYTES is dropped, not spooled.

    The request is flagged (`request.upload_too_large`) so the view answers `file_too_large`.
    Unlike the stock handler this one never hands over to a temporary-file handler.
    """

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        # Always activate: never fall back to TemporaryFileUploadHandler, whatever the size.
        self.activated = True
        assert self.request is not None  # Django always builds upload handlers with the request
        # An ad-hoc flag on the request; portraits.api reads it with getattr().
        self.request.upload_too_large = (  # type: ignore[attr-defined]
            content_length > settings.PROPORTRAIT_MAX_UPLOAD_BYTES + 64 * 1024
        )

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received_bytes = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received_bytes = start + len(raw_data)
        if self.received_bytes > settings.PROPORTRAIT_MAX_UPLOAD_BYTES:
            assert self.request is not None
            self.request.upload_too_large = True  # type: ignore[attr-defined]
            self.file.close()
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)
