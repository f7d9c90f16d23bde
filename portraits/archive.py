"""'Download all': the full-resolution portraits of a job as one ZIP, streamed.

Each portrait is decrypted in memory and written into the archive as it is sent; nothing is
written to disk and at most one decrypted portrait is held at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

from portraits import services
from portraits.models import Portrait


class _Chunks:
    """A write-only, non-seekable file: zipfile then writes data descriptors and never seeks."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def portrait_filename(portrait: Portrait) -> str:
    extension = "jpg" if portrait.full_format == "jpeg" else portrait.full_format
    return f"portrait-{portrait.variant + 1}.{extension}"


def stream_portraits_zip(portraits: Iterable[Portrait]) -> Iterator[bytes]:
    """Yield a ZIP of the portraits' full-resolution files (stored, not recompressed: JPEG/PNG/WebP)."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for portrait in portraits:
            info = zipfile.ZipInfo(portrait_filename(portrait), date_time=portrait.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, services.read_portrait_bytes(portrait, "full"))
            yield sink.take()
    yield sink.take()
