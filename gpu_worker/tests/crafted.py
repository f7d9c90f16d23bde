"""Crafted files of every accepted format, built in code: each attacks a decoder's cost or
hides a lie in its structure. `gpu_worker.tests.corpus` holds the honest photos."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image

from gpu_worker.tests import corpus

# ---------------------------------------------------------------- JPEG


@cache
def progressive_grey(size: int = 7000) -> bytes:
    """A plain grey progressive JPEG (the shape of the file the attack below starts from)."""
    buffer = io.BytesIO()
    Image.new("L", (size, size), 128).save(buffer, "JPEG", progressive=True, quality=75)
    return buffer.getvalue()


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment up to the first scan's data, plus scans."""
    found = []
    position = 2
    while position < len(data):
        marker = data[position + 1]
        if marker == 0xD9:
            break
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if marker == 0xDA:
            following = end
            while True:
                following = data.index(b"\xff", following)
                if data[following + 1] not in (0x00, 0xFF) and not 0xD0 <= data[following + 1] <= 0xD7:
                    break
                following += 1
            end = following
        found.append((marker, position, end))
        position = end
    return found


def repeated_refinement_scans(repeats: int = 2500, size: int = 7000) -> bytes:
    """The reported attack: a grey progressive JPEG whose last refinement scan is repeated."""
    data = progressive_grey(size)
    scans = [(start, end) for marker, start, end in _segments(data) if marker == 0xDA]
    start, end = scans[-1]
    return data[:end] + data[start:end] * repeats + data[end:]


def jpeg_with_frame(marker: int = 0xC0, width: int = 640, height: int = 480, precision: int = 8) -> bytes:
    """A real JPEG whose frame header is rewritten (type, size or precision)."""
    data = bytearray(corpus.encode(corpus.portrait(256), "JPEG", quality=80))
    for found, start, _ in _segments(bytes(data)):
        if found == 0xC0:
            data[start + 1] = marker
            struct.pack_into(">BHH", data, start + 4, precision, height, width)
            return bytes(data)
    raise AssertionError("no baseline frame header")


def many_comment_segments(count: int = 5000) -> bytes:
    data = corpus.encode(corpus.portrait(256), "JPEG", quality=80)
    comment = b"\xff\xfe" + struct.pack(">H", 4) + b"hi"
    return data[:2] + comment * count + data[2:]


def segment_past_the_end() -> bytes:
    data = corpus.encode(corpus.portrait(256), "JPEG", quality=80)
    return data[:2] + b"\xff\xe1\xff\xf0Exif\x00\x00"


def scan_before_frame() -> bytes:
    data = corpus.encode(corpus.portrait(256), "JPEG", quality=80)
    segments = _segments(data)
    scan = next((start, end) for marker, start, end in segments if marker == 0xDA)
    return data[:2] + data[scan[0] : scan[1]] + data[2:]


def two_frames() -> bytes:
    data = corpus.encode(corpus.portrait(256), "JPEG", quality=80)
    frame = next((start, end) for marker, start, end in _segments(data) if marker == 0xC0)
    return data[: frame[1]] + data[frame[0] : frame[1]] + data[frame[1] :]


def without_end_marker() -> bytes:
    return corpus.encode(corpus.portrait(256), "JPEG", quality=80)[:-2]


# ---------------------------------------------------------------- PNG


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(chunks: list[bytes], width: int = 64, height: int = 64, colour_type: int = 2) -> bytes:
    """A PNG of the given size from these chunks between IHDR and IEND."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + png_chunk(b"IEND", b"")


def png_image_data(width: int = 64, height: int = 64) -> bytes:
    return png_chunk(b"IDAT", zlib.compress((b"\x00" + b"\x80" * 3 * width) * height))


def many_png_chunks(count: int = 20_000) -> bytes:
    text = png_chunk(b"tEXt", b"k\x00v")
    return png([text * count, png_image_data()])


def png_chunk_past_the_end() -> bytes:
    good = png([png_image_data()])
    return good[:33] + struct.pack(">I", 0x7FFFFFF0) + b"IDAT" + good[41:]


def png_bad_crc() -> bytes:
    data = bytearray(png([png_image_data()]))
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


def iccp_bomb(inflated_bytes: int = 200 * 1024 * 1024) -> bytes:
    """A colour profile chunk of ~200 KB that inflates to 200 MB."""
    compressor = zlib.compressobj(9)
    block = b"\x00" * (1024 * 1024)
    body = b"".join(compressor.compress(block) for _ in range(inflated_bytes // len(block)))
    body += compressor.flush()
    return png([png_chunk(b"iCCP", b"icc\x00\x00" + body), png_image_data()])


def many_ztxt(count: int = 40, each_bytes: int = 1024 * 1024) -> bytes:
    text = png_chunk(b"zTXt", b"comment\x00\x00" + zlib.compress(b"a" * each_bytes, 9))
    return png([text * count, png_image_data()])


def apng_frames(declared: int = 1_000_000) -> bytes:
    return png([png_chunk(b"acTL", struct.pack(">II", declared, 0)), png_image_data()])


def apng_frame_outside_canvas() -> bytes:
    control = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 64, 64, 10, 10, 1, 10, 0, 0))
    return png([png_chunk(b"acTL", struct.pack(">II", 1, 0)), control, png_image_data()])


def split_image_data() -> bytes:
    return png([png_image_data(), png_chunk(b"tEXt", b"k\x00v"), png_image_data()])


def png_truncated() -> bytes:
    return png([png_image_data()])[:-12]


def png_idat_inflates_far_past_its_size() -> bytes:
    """64x64 declared, 400 MB of inflated data: only the declared rows may be decoded."""
    compressor = zlib.compressobj(9)
    row = (b"\x00" + b"\x80" * 3 * 64) * 64
    body = compressor.compress(row)
    zeros = b"\x00" * (1024 * 1024)
    body += b"".join(compressor.compress(zeros) for _ in range(400))
    return png([png_chunk(b"IDAT", body + compressor.flush())])


# ---------------------------------------------------------------- WebP


def webp_riff_past_the_end() -> bytes:
    data = bytearray(corpus.webp())
    struct.pack_into("<I", data, 4, len(data) * 4)
    return bytes(data)


def webp_chunk_past_the_end() -> bytes:
    data = bytearray(corpus.webp())
    struct.pack_into("<I", data, 16, 0xFFFFFFF0)
    return bytes(data)


def webp_many_frames(count: int = 300) -> bytes:
    frames = [Image.new("RGB", (16, 16), (index % 256, 0, 0)) for index in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=10, lossless=True)
    return buffer.getvalue()


def webp_huge_canvas() -> bytes:
    """A VP8X header claiming a 16384x16384 canvas around a small image."""
    small = corpus.encode(Image.new("RGB", (16, 16)), "WEBP", lossless=True)
    image_chunk = small[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + image_chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ---------------------------------------------------------------- HEIF


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, body: bytes, flags: int = 0) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


def heif_grid(
    rows: int = 2,
    columns: int = 2,
    tile: tuple[int, int] = (512, 512),
    size: tuple[int, int] | None = None,
    declared_items: int | None = None,
    extent_past_the_end: bool = False,
) -> bytes:
    """A HEIF whose primary image is a grid of hvc1 tiles (tile data is filler: the structure
    check never reads it)."""
    width, height = size or (columns * tile[0] - 100, rows * tile[1] - 60)
    tiles = list(range(2, 2 + rows * columns))
    items = [1, *tiles]
    infe = [_full_box(b"infe", 2, struct.pack(">HH", 1, 0) + b"grid" + b"\x00")]
    infe += [_full_box(b"infe", 2, struct.pack(">HH", item, 0) + b"hvc1" + b"\x00") for item in tiles]
    iinf = _full_box(b"iinf", 0, struct.pack(">H", declared_items or len(items)) + b"".join(infe))
    grid_descriptor = bytes([0, 1, rows - 1, columns - 1]) + struct.pack(">II", width, height)
    idat = _box(b"idat", grid_descriptor)
    ispe_grid = _full_box(b"ispe", 0, struct.pack(">II", width, height))
    ispe_tile = _full_box(b"ispe", 0, struct.pack(">II", *tile))
    ipco = _box(b"ipco", ispe_grid + ispe_tile)
    associations = struct.pack(">H", 1) + bytes([1, 0x81])
    for item in tiles:
        associations += struct.pack(">H", item) + bytes([1, 0x82])
    ipma = _full_box(b"ipma", 0, struct.pack(">I", len(items)) + associations)
    iprp = _box(b"iprp", ipco + ipma)
    iref = _full_box(
        b"iref",
        0,
        _box(b"dimg", struct.pack(">HH", 1, len(tiles)) + b"".join(struct.pack(">H", t) for t in tiles)),
    )
    hdlr = _full_box(b"hdlr", 0, b"\x00\x00\x00\x00pict" + b"\x00" * 12 + b"\x00")
    pitm = _full_box(b"pitm", 0, struct.pack(">H", 1))
    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    tile_bytes = 64

    def meta_with(iloc: bytes) -> bytes:
        return _full_box(b"meta", 0, hdlr + pitm + iinf + iref + iprp + idat + iloc)

    def iloc_at(mdat_data_start: int) -> bytes:
        entries = struct.pack(">HHHH", 1, 1, 0, 1) + struct.pack(">II", 0, len(grid_descriptor))
        for index, item in enumerate(tiles):
            length = tile_bytes * (1000 if extent_past_the_end else 1)
            entries += struct.pack(">HHHH", item, 0, 0, 1)
            entries += struct.pack(">II", mdat_data_start + index * tile_bytes, length)
        return _full_box(b"iloc", 1, bytes([0x44, 0x00]) + struct.pack(">H", len(items)) + entries)

    head_size = len(ftyp) + len(meta_with(iloc_at(0)))
    meta = meta_with(iloc_at(head_size + 8))
    mdat = _box(b"mdat", b"\x00" * tile_bytes * len(tiles))
    return ftyp + meta + mdat


def heif_box_past_the_end() -> bytes:
    data = bytearray(corpus.heic())
    meta = data.index(b"meta") - 4
    struct.pack_into(">I", data, meta, len(data) * 2)
    return bytes(data)


def corrupt_image_data() -> bytes:
    """A PNG whose every chunk and CRC is in order, but whose image data is not deflate.

    Large enough (640 x 800) to pass the web tier's minimum photo size, so only the worker finds it.
    """
    garbage = bytes([0x78, 0x9C]) + bytes((index * 37 + 11) % 251 for index in range(4000))
    return png([png_chunk(b"IDAT", garbage)], width=640, height=800)
