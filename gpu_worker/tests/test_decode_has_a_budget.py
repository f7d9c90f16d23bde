"""The worker's decode runs under a CPU and a wall-clock budget, in a child process."""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import replace

import numpy as np
import pytest

from gpu_worker.decode import decode_checked, decode_photo, decode_with_budget
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.schemas import InputLimits
from gpu_worker.structure import Structure, check_structure
from gpu_worker.tests import corpus, crafted


def test_it_stops_a_decode_that_exceeds_its_cpu_budget() -> None:
    # The reported attack, as if a structure rule had missed it: libjpeg decodes every one of
    # the 2,500 repeated scans (tens of CPU seconds) unless it is stopped.
    data = crafted.repeated_refinement_scans(2500, 2000)
    limits = InputLimits(decode_cpu_seconds=1, decode_wall_seconds=60)
    started = time.perf_counter()
    with pytest.raises(InputError) as stopped:
        decode_with_budget(data, Structure("JPEG", 2000, 2000), limits)
    assert stopped.value.code == ErrorCode.IMAGE_TOO_COMPLEX
    # One CPU second, however long a shared machine takes to give it.
    assert time.perf_counter() - started < 30
    assert multiprocessing.active_children() == []


def test_it_stops_a_decode_that_exceeds_its_wall_clock_budget(limits: InputLimits) -> None:
    data = corpus.large_jpeg()
    with pytest.raises(InputError) as stopped:
        decode_photo(data, replace(limits, decode_wall_seconds=0.001))
    assert stopped.value.code == ErrorCode.IMAGE_TOO_COMPLEX
    assert multiprocessing.active_children() == []


def test_corrupt_data_in_a_well_formed_file_is_corrupt_image(limits: InputLimits) -> None:
    data = crafted.corrupt_image_data()
    assert check_structure(data, limits).format == "PNG"  # the web tier accepts it
    with pytest.raises(InputError) as refused:
        decode_photo(data, limits)
    assert refused.value.code == ErrorCode.CORRUPT_IMAGE


def test_a_png_whose_data_inflates_past_its_size_decodes_only_its_rows(limits: InputLimits) -> None:
    data = crafted.png_idat_inflates_far_past_its_size()  # 64x64 declared, 400 MB inflated
    assert decode_photo(data, limits).shape == (64, 64, 3)
    # Measured in this process: the decoder stops when the declared rows are full.
    started = time.process_time()
    decode_checked(data, check_structure(data, limits), limits)
    assert time.process_time() - started < 0.5


def test_the_budgeted_decode_gives_the_same_pixels(limits: InputLimits) -> None:
    for data in (corpus.jpeg(), corpus.rgba_png(), corpus.heic(), corpus.webp()):
        structure = check_structure(data, limits)
        assert np.array_equal(decode_photo(data, limits), decode_checked(data, structure, limits))


def _decode_in_pool_worker(_: int) -> tuple[int, ...]:
    limits = InputLimits(max_bytes=20 * 1024 * 1024, max_pixels=50_000_000)
    data = corpus.jpeg()
    return tuple(decode_with_budget(data, check_structure(data, limits), limits).shape)


def test_it_decodes_inside_a_celery_prefork_pool_process() -> None:
    """Celery's prefork pool (billiard) runs tasks in daemonic processes with its own authkey
    type; the budgeted decode child must start from there, as it does in production workers."""
    from billiard import Pool

    with Pool(1) as pool:
        shape = pool.map(_decode_in_pool_worker, [0])[0]
    assert len(shape) == 3 and shape[2] == 3
