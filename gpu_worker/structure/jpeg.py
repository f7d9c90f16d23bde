"""JPEG structure: markers, frame header, scan count and progression, without entropy decoding.

Cost is one pass over the bytes: between markers only the segment lengths are followed, and
entropy-coded data is skipped with one C-level search for the next marker.

A progressive JPEG's decoder does work for every scan, so a file can be made to cost almost
any CPU by repeating scans. Two rules bound that: at most `limits.max_jpeg_scans` scans, and
the progression must be one the standard allows (each coefficient bit of each component is
sent once: a refinement scan must lower the precision by exactly one bit; libjpeg only warns
about a bogus progression and decodes the repeated scan again).
"""

from __future__ import annotations

import re
import struct

from gpu_worker.schemas import InputLimits
from gpu_worker.structure.common import (
    Structure,
    check_pixels,
    corrupt,
    exif_orientation,
    too_complex,
    unsupported,
)

_SOI, _EOI, _SOS, _DHT, _DQT, _DRI, _DNL, _COM = 0xD8, 0xD9, 0xDA, 0xC4, 0xDB, 0xDD, 0xDC, 0xFE
_SUPPORTED_FRAMES = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
# Lossless, hierarchical and arithmetic-coded frames: valid JPEG, but not photos we take.
_UNSUPPORTED_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_APP0, _APP15 = 0xE0, 0xEF
_ARITHMETIC_CONDITIONING = 0xCC
# Inside entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte), a restart marker
# (0xD0-0xD7) or fill (0xFF); anything else is the next marker.
_NEXT_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_MAX_SUCCESSIVE_BITS = 13


def check_jpeg(data: bytes, limits: InputLimits) -> Structure:
    """Walk a JPEG's markers; return its size and orientation, or raise a StructureError."""
    length = len(data)
    position = 2  # after SOI
    frame: _Frame | None = None
    orientation = 1
    segments = 0
    while True:
        # Fill bytes (0xFF runs) may precede any marker.
        while position + 1 < length and data[position] == 0xFF and data[position + 1] == 0xFF:
            position += 1
        if position + 1 >= length:
            raise corrupt("the file ends before its end-of-image marker (truncated)")
        if data[position] != 0xFF:
            # Stray bytes between segments: libjpeg skips them with a warning, and some
            # older cameras and editors write them, so they are skipped here too.
            following = data.find(b"\xff", position)
            if following < 0:
                raise corrupt(f"no marker after byte {position}")
            position = following
            continue
        marker = data[position + 1]
        position += 2
        if marker == _EOI:
            break
        if marker == _SOI or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise corrupt(f"marker 0x{marker:02X} out of place")
        if position + 2 > length:
            raise corrupt("truncated marker segment")
        (segment_length,) = struct.unpack_from(">H", data, position)
        end = position + segment_length
        if segment_length < 2 or end > length:
            raise corrupt(f"marker 0x{marker:02X} declares {segment_length} bytes past the end of the file")
        body = memoryview(data)[position + 2 : end]
        segments += 1
        if segments > limits.max_jpeg_segments:
            raise too_complex(f"more than {limits.max_jpeg_segments} marker segments")
        if marker in _SUPPORTED_FRAMES:
            if frame is not None:
                raise corrupt("more than one frame header")
            frame = _Frame.parse(marker, body, limits)
        elif marker in _UNSUPPORTED_FRAMES:
            raise unsupported(f"JPEG frame type 0x{marker:02X} (lossless, hierarchical or arithmetic)")
        elif marker == _SOS:
            if frame is None:
                raise corrupt("a scan before the frame header")
            frame.add_scan(body, limits)
            found = _NEXT_MARKER.search(data, end)
            if found is None:
                raise corrupt("the file ends inside a scan (truncated)")
            position = found.start()
            continue
        elif marker == _DNL:
            raise unsupported("height defined after the first scan (DNL)")
        elif marker == _APP0 + 1 and orientation == 1 and bytes(body[:6]) == b"Exif\x00\x00":
            orientation = exif_orientation(body)
        elif not (marker in {_DHT, _DQT, _DRI, _COM, _ARITHMETIC_CONDITIONING} or _APP0 <= marker <= _APP15):
            raise corrupt(f"unknown marker 0x{marker:02X}")
        position = end
    if frame is None:
        raise corrupt("no frame header")
    frame.check_complete()
    # Bytes after the end-of-image marker (phones append preview images there) are never read.
    return Structure("JPEG", frame.width, frame.height, orientation)


class _Frame:
    def __init__(self, kind: str, width: int, height: int, components: list[int]) -> None:
        self.kind = kind
        self.width = width
        self.height = height
        self.components = components
        self.scans = 0
        # Baseline: components already coded. Progressive: per component, per coefficient, the
        # lowest bit sent so far (None: not started).
        self.coded: set[int] = set()
        self.bits: dict[int, list[int | None]] = {component: [None] * 64 for component in components}

    @classmethod
    def parse(cls, marker: int, body: memoryview, limits: InputLimits) -> _Frame:
        if len(body) < 6:
            raise corrupt("short frame header")
        precision, height, width, count = struct.unpack_from(">BHHB", body)
        if precision != 8:
            raise unsupported(f"{precision}-bit JPEG")
        if count not in (1, 3, 4) or len(body) != 6 + 3 * count:
            raise corrupt(f"frame header with {count} components")
        if height == 0:
            raise unsupported("height defined after the first scan (DNL)")
        check_pixels(width, height, limits)
        components = []
        for index in range(count):
            identifier, sampling, table = struct.unpack_from(">BBB", body, 6 + 3 * index)
            if not (1 <= sampling >> 4 <= 4 and 1 <= sampling & 0x0F <= 4) or table > 3:
                raise corrupt("bad component sampling or table")
            if identifier in components:
                raise corrupt("a component appears twice in the frame header")
            components.append(identifier)
        return cls(_SUPPORTED_FRAMES[marker], width, height, components)

    def add_scan(self, body: memoryview, limits: InputLimits) -> None:
        self.scans += 1
        if self.scans > limits.max_jpeg_scans:
            raise too_complex(f"more than {limits.max_jpeg_scans} scans")
        if len(body) < 1:
            raise corrupt("short scan header")
        count = body[0]
        if not 1 <= count <= 4 or len(body) != 4 + 2 * count:
            raise corrupt(f"scan header with {count} components")
        selected = [body[1 + 2 * index] for index in range(count)]
        if len(set(selected)) != count or not set(selected) <= set(self.components):
            raise corrupt("a scan names an unknown or repeated component")
        start, end, approximation = body[1 + 2 * count], body[2 + 2 * count], body[3 + 2 * count]
        high, low = approximation >> 4, approximation & 0x0F
        if self.kind != "progressive":
            if (start, end, high, low) != (0, 63, 0, 0):
                raise corrupt("progression parameters in a sequential JPEG")
            if self.coded & set(selected):
                raise corrupt("a component coded twice in a sequential JPEG")
            self.coded.update(selected)
            return
        self._check_progression(selected, start, end, high, low)

    def _check_progression(self, selected: list[int], start: int, end: int, high: int, low: int) -> None:
        if start > end or end > 63 or low > _MAX_SUCCESSIVE_BITS or high > _MAX_SUCCESSIVE_BITS:
            raise corrupt("invalid spectral selection or successive approximation")
        if start == 0 and end != 0:
            raise corrupt("a DC scan that includes AC coefficients")
        if start > 0 and len(selected) != 1:
            raise corrupt("an AC scan with more than one component")
        if high != 0 and low != high - 1:
            raise corrupt("a refinement scan must refine by exactly one bit")
        for component in selected:
            bits = self.bits[component]
            if start > 0 and bits[0] is None:
                raise corrupt("AC coefficients sent before the DC of their component")
            for coefficient in range(start, end + 1):
                sent = bits[coefficient]
                if high == 0 and sent is not None:
                    raise corrupt("a coefficient's first scan is repeated")
                if high != 0 and sent != high:
                    raise corrupt("a refinement scan that does not follow the previous one")
                bits[coefficient] = low

    def check_complete(self) -> None:
        if self.scans == 0:
            raise corrupt("no image data")
        if self.kind != "progressive":
            if self.coded != set(self.components):
                raise corrupt("a component has no scan")
        elif any(bits[0] is None for bits in self.bits.values()):
            raise corrupt("a component has no DC scan")
