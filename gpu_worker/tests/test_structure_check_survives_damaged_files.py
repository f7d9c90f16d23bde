"""Random damage to real files of every format: the structure check either accepts the file or
refuses it with a documented code, never crashes, and stays fast. (Seeded, so reproducible.)"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits
from gpu_worker.structure import check_structure
from gpu_worker.tests import corpus, crafted

SOURCES: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: corpus.encode(corpus.portrait(256), "JPEG", quality=85, progressive=True),
    "png": lambda: corpus.encode(corpus.portrait(128), "PNG"),
    "apng": corpus.animated_png,
    "webp": corpus.animated_webp,
    "heic": corpus.heic,
    "heic-grid": lambda: crafted.heif_grid(rows=3, columns=4, tile=(256, 256)),
}
DOCUMENTED = set(ErrorCode)


def _damage(data: bytes, generator: random.Random) -> bytes:
    damaged = bytearray(data)
    for _ in range(generator.randint(1, 8)):
        kind = generator.random()
        position = generator.randrange(len(damaged))
        if kind < 0.6:
            damaged[position] = generator.randrange(256)
        elif kind < 0.8:
            del damaged[position : position + generator.randint(1, 64)]
        else:
            inserted = bytes(generator.randrange(256) for _ in range(generator.randint(1, 16)))
            damaged[position:position] = inserted
    if generator.random() < 0.2:
        damaged = damaged[: generator.randrange(1, len(damaged))]
    return bytes(damaged)


@pytest.mark.parametrize("name", list(SOURCES))
def test_damaged_files_are_accepted_or_refused_with_a_code(name: str, limits: InputLimits) -> None:
    source = SOURCES[name]()
    generator = random.Random(name)
    slowest = 0.0
    outcomes: set[str] = set()
    for _ in range(300):
        data = _damage(source, generator)
        started = time.perf_counter()
        try:
            check_structure(data, limits)
            outcomes.add("accepted")
        except InputError as error:
            assert error.code in DOCUMENTED
            outcomes.add(error.code.value)
        slowest = max(slowest, time.perf_counter() - started)
    assert "corrupt_image" in outcomes  # the damage was noticed at least sometimes
    assert slowest < 0.25
