"""HEIF/HEIC structure: boxes, items, the primary image, grid tiles and item locations.

Only the boxes that describe images are read (ftyp, meta: hdlr, pitm, iinf, iloc, iref, iprp,
idat); media data is never touched. Every box size is checked against its parent before it is
followed, item and tile counts are capped, the primary image's declared size (ispe) and, for a
grid, its tiles' total size are checked against the pixel cap, and every item extent must lie
inside the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from gpu_worker.errors import ErrorCode
from gpu_worker.schemas import InputLimits
from gpu_worker.structure.common import (
    Structure,
    StructureError,
    check_pixels,
    corrupt,
    too_complex,
    unsupported,
)

_CODED_IMAGES = {b"hvc1"}
# How many times the pixel cap a grid's tiles may hold in all (edge tiles overhang the image).
_GRID_SLACK = 2
# Rotation (irot, anticlockwise quarter turns) as the EXIF orientation a viewer applies.
_ROTATION_ORIENTATION = {0: 1, 1: 8, 2: 3, 3: 6}


@dataclass
class _Item:
    kind: bytes = b""
    properties: list[int] = field(default_factory=list)
    extents: list[tuple[int, int, int]] = field(default_factory=list)  # (method, offset, length)


def check_heif(data: bytes, limits: InputLimits) -> Structure:
    """Walk a HEIF file's boxes; return the primary image's size, or raise a StructureError."""
    budget = _BoxBudget(limits.max_heif_boxes)
    top = _boxes(data, 0, len(data), budget)
    metas = [(start, end) for kind, start, end in top if kind == b"meta"]
    if len(metas) != 1:
        raise corrupt(f"{len(metas)} meta boxes")
    meta_start, meta_end = metas[0]
    children = {kind: (start, end) for kind, start, end in _boxes(data, meta_start + 4, meta_end, budget)}
    for required in (b"hdlr", b"pitm", b"iinf", b"iloc", b"iprp"):
        if required not in children:
            raise corrupt(f"no {required.decode()} box")
    if data[children[b"hdlr"][0] + 8 : children[b"hdlr"][0] + 12] != b"pict":
        raise unsupported("not an image (hdlr is not pict)")
    items = _read_items(data, children[b"iinf"], limits, budget)
    primary = _read_primary(data, children[b"pitm"])
    if primary not in items:
        raise corrupt("the primary item does not exist")
    properties = _read_properties(data, children[b"iprp"], items, budget)
    idat = children.get(b"idat")
    _read_locations(data, children[b"iloc"], items, len(data), idat)
    image = items[primary]
    if image.kind not in _CODED_IMAGES | {b"grid"}:
        raise unsupported(f"primary image of type {image.kind!r}")
    width, height = _spatial_extent(data, image, properties)
    check_pixels(width, height, limits)
    if image.kind == b"grid":
        references = _read_references(data, children.get(b"iref"), budget).get(primary, [])
        _check_grid(data, image, references, items, properties, width, height, idat, limits)
    elif not image.extents:
        raise corrupt("the primary image has no data")
    orientation = 1
    for index in image.properties:
        kind, start, end = properties[index]
        if kind == b"irot" and end > start:
            orientation = _ROTATION_ORIENTATION[data[start] & 0x03]
    return Structure("HEIF", width, height, orientation)


class _BoxBudget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise too_complex("too many boxes")


def _boxes(data: bytes, start: int, end: int, budget: _BoxBudget) -> list[tuple[bytes, int, int]]:
    """(type, body start, body end) of each box in data[start:end], sizes checked."""
    found = []
    position = start
    while position < end:
        if position + 8 > end:
            raise corrupt("a box header runs past its parent")
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if position + 16 > end:
                raise corrupt("a box header runs past its parent")
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise corrupt(f"box {kind!r} declares {size} bytes past its parent")
        budget.spend()
        found.append((kind, position + header, position + size))
        position += size
    return found


def _full_box(data: bytes, start: int, end: int, minimum: int) -> int:
    """The version of a FullBox whose body needs at least `minimum` bytes after its header."""
    if end - start < 4 + minimum:
        raise corrupt("short box")
    return data[start]


def _read_primary(data: bytes, box: tuple[int, int]) -> int:
    start, end = box
    version = _full_box(data, start, end, 2)
    if version == 0:
        return int(struct.unpack_from(">H", data, start + 4)[0])
    _full_box(data, start, end, 4)
    return int(struct.unpack_from(">I", data, start + 4)[0])


def _read_items(
    data: bytes, box: tuple[int, int], limits: InputLimits, budget: _BoxBudget
) -> dict[int, _Item]:
    start, end = box
    version = _full_box(data, start, end, 2)
    if version == 0:
        (count,) = struct.unpack_from(">H", data, start + 4)
        entries_start = start + 6
    else:
        _full_box(data, start, end, 4)
        (count,) = struct.unpack_from(">I", data, start + 4)
        entries_start = start + 8
    if count > limits.max_heif_items:
        raise too_complex(f"{count} items")
    items: dict[int, _Item] = {}
    for kind, entry_start, entry_end in _boxes(data, entries_start, end, budget):
        if kind != b"infe":
            continue
        entry_version = _full_box(data, entry_start, entry_end, 8)
        if entry_version < 2:
            raise unsupported("item info entry version < 2")
        if entry_version == 2:
            (identifier,) = struct.unpack_from(">H", data, entry_start + 4)
            type_at = entry_start + 8
        else:
            _full_box(data, entry_start, entry_end, 10)
            (identifier,) = struct.unpack_from(">I", data, entry_start + 4)
            type_at = entry_start + 10
        if identifier in items:
            raise corrupt("an item is declared twice")
        items[identifier] = _Item(kind=data[type_at : type_at + 4])
    if len(items) != count:
        raise corrupt(f"iinf declares {count} items and holds {len(items)}")
    return items


def _read_properties(
    data: bytes, box: tuple[int, int], items: dict[int, _Item], budget: _BoxBudget
) -> list[tuple[bytes, int, int]]:
    children = {kind: (start, end) for kind, start, end in _boxes(data, box[0], box[1], budget)}
    if b"ipco" not in children or b"ipma" not in children:
        raise corrupt("no property container or associations")
    properties = _boxes(data, *children[b"ipco"], budget)
    start, end = children[b"ipma"]
    version = _full_box(data, start, end, 4)
    flags = int.from_bytes(data[start + 1 : start + 4], "big")
    (count,) = struct.unpack_from(">I", data, start + 4)
    if count > len(items):
        raise corrupt("property associations for more items than exist")
    position = start + 8
    for _ in range(count):
        id_size = 2 if version == 0 else 4
        if position + id_size + 1 > end:
            raise corrupt("property associations run past their box")
        identifier = int.from_bytes(data[position : position + id_size], "big")
        associations = data[position + id_size]
        position += id_size + 1
        entry_size = 2 if flags & 1 else 1
        if position + associations * entry_size > end:
            raise corrupt("property associations run past their box")
        item = items.get(identifier)
        if item is None:
            raise corrupt("properties for an item that does not exist")
        for _ in range(associations):
            value = int.from_bytes(data[position : position + entry_size], "big")
            position += entry_size
            index = value & (0x7FFF if entry_size == 2 else 0x7F)
            if index == 0:
                continue
            if index > len(properties):
                raise corrupt("an association to a property that does not exist")
            item.properties.append(index - 1)
    return properties


def _read_locations(
    data: bytes, box: tuple[int, int], items: dict[int, _Item], file_size: int, idat: tuple[int, int] | None
) -> None:
    start, end = box
    version = _full_box(data, start, end, 2)
    if version > 2:
        raise corrupt(f"iloc version {version}")
    sizes = data[start + 4]
    offset_size, length_size = sizes >> 4, sizes & 0x0F
    base_size, index_size = data[start + 5] >> 4, (data[start + 5] & 0x0F) if version else 0
    if any(size not in (0, 4, 8) for size in (offset_size, length_size, base_size, index_size)):
        raise corrupt("invalid iloc field sizes")
    reader = _Reader(data, start + 6, end)
    count = reader.read(2 if version < 2 else 4)
    for _ in range(count):
        identifier = reader.read(2 if version < 2 else 4)
        method = reader.read(2) & 0x0F if version else 0
        reader.read(2)  # data reference index
        base = reader.read(base_size)
        extents = reader.read(2)
        item = items.get(identifier)
        if item is None:
            raise corrupt("a location for an item that does not exist")
        if extents > 64:
            raise too_complex(f"an item in {extents} extents")
        for _ in range(extents):
            if index_size:
                reader.read(index_size)
            offset, length = base + reader.read(offset_size), reader.read(length_size)
            if method == 0:
                limit = file_size
            elif method == 1 and idat is not None:
                limit = idat[1] - idat[0]
            else:
                raise unsupported("item data by reference to another item or file")
            if offset + length > limit:
                raise corrupt("an item's data lies past the end of the file")
            item.extents.append((method, offset, length))


class _Reader:
    def __init__(self, data: bytes, position: int, end: int) -> None:
        self.data, self.position, self.end = data, position, end

    def read(self, size: int) -> int:
        if self.position + size > self.end:
            raise corrupt("a box's fields run past its end")
        value = int.from_bytes(self.data[self.position : self.position + size], "big")
        self.position += size
        return value


def _read_references(data: bytes, box: tuple[int, int] | None, budget: _BoxBudget) -> dict[int, list[int]]:
    """Derived-image references (dimg): grid item id -> tile ids, in order."""
    if box is None:
        return {}
    start, end = box
    version = _full_box(data, start, end, 0)
    id_size = 2 if version == 0 else 4
    references: dict[int, list[int]] = {}
    for kind, ref_start, ref_end in _boxes(data, start + 4, end, budget):
        if kind != b"dimg":
            continue
        reader = _Reader(data, ref_start, ref_end)
        source = reader.read(id_size)
        count = reader.read(2)
        references.setdefault(source, []).extend(reader.read(id_size) for _ in range(count))
    return references


def _spatial_extent(data: bytes, item: _Item, properties: list[tuple[bytes, int, int]]) -> tuple[int, int]:
    for index in item.properties:
        kind, start, end = properties[index]
        if kind == b"ispe":
            if end - start < 12:
                raise corrupt("short ispe")
            width, height = struct.unpack_from(">II", data, start + 4)
            return int(width), int(height)
    raise corrupt("an image without a declared size (ispe)")


def _check_grid(
    data: bytes,
    grid: _Item,
    tiles: list[int],
    items: dict[int, _Item],
    properties: list[tuple[bytes, int, int]],
    width: int,
    height: int,
    idat: tuple[int, int] | None,
    limits: InputLimits,
) -> None:
    """A grid's descriptor, its tiles' count and types, and their total size."""
    if len(grid.extents) != 1:
        raise corrupt("a grid without exactly one descriptor")
    method, offset, length = grid.extents[0]
    base = idat[0] if method == 1 and idat is not None else 0
    descriptor = data[base + offset : base + offset + length]
    if len(descriptor) < 8:
        raise corrupt("short grid descriptor")
    field_size = 4 if descriptor[1] & 1 else 2
    rows, columns = descriptor[2] + 1, descriptor[3] + 1
    if len(descriptor) < 4 + 2 * field_size:
        raise corrupt("short grid descriptor")
    output_width = int.from_bytes(descriptor[4 : 4 + field_size], "big")
    output_height = int.from_bytes(descriptor[4 + field_size : 4 + 2 * field_size], "big")
    if (output_width, output_height) != (width, height):
        raise corrupt("the grid's size differs from its declared size")
    if rows * columns > limits.max_heif_items:
        raise too_complex(f"a grid of {rows * columns} tiles")
    if len(tiles) != rows * columns:
        raise corrupt(f"a {rows}x{columns} grid with {len(tiles)} tiles")
    sizes = set()
    for identifier in tiles:
        tile = items.get(identifier)
        if tile is None or tile.kind not in _CODED_IMAGES or not tile.extents:
            raise corrupt("a grid tile that is missing, empty or not a coded image")
        sizes.add(_spatial_extent(data, tile, properties))
    if len(sizes) != 1:
        raise corrupt("grid tiles of different sizes")
    tile_width, tile_height = sizes.pop()
    if columns * tile_width < width or rows * tile_height < height:
        raise corrupt("the grid's tiles do not cover the image")
    if (columns - 1) * tile_width >= width or (rows - 1) * tile_height >= height:
        raise corrupt("the grid has tiles wholly outside the image")
    if rows * columns * tile_width * tile_height > _GRID_SLACK * limits.max_pixels:
        raise StructureError(ErrorCode.IMAGE_TOO_LARGE, "the grid's tiles exceed the pixel cap")
