"""Memory-only upload handling with a hard byte cap: an upload never touches the disk."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, SkipFile

# Multipart framing and the form's small fields around the file.
ENVELOPE_BYTES = 64 * 1024


class CappedMemoryUploadHandler(MemoryFileUploadHandler):
    """Keeps uploads in memory; bytes past PROPORTRAIT_MAX_UPLOAD_BYTES are dropped, not spooled.

    The cap counts every file of the request together, so several files cannot multiply it.
    The request is flagged (`request.upload_too_large`) so the view answers `file_too_large`.
    Unlike the stock handler this one never hands over to a temporary-file handler.
    """

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        # Always activate: never fall back to TemporaryFileUploadHandler, whatever the size.
        self.activated = True
        self.request_file_bytes = 0
        assert self.request is not None  # Django always builds upload handlers with the request
        # An ad-hoc flag on the request; portraits.api reads it with getattr().
        self.request.upload_too_large = (  # type: ignore[attr-defined]
            content_length > settings.PROPORTRAIT_MAX_UPLOAD_BYTES + ENVELOPE_BYTES
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.request_file_bytes += len(raw_data)
        assert self.request is not None
        if (
            self.request.upload_too_large  # type: ignore[attr-defined]
            or self.request_file_bytes > settings.PROPORTRAIT_MAX_UPLOAD_BYTES
        ):
            # Drop what this file holds so far; the parser reads past the rest without keeping it.
            self.request.upload_too_large = True  # type: ignore[attr-defined]
            self.file.close()
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)
