"""Every error code a client can receive is documented in the API's list (and so in OpenAPI)."""

from __future__ import annotations

from gpu_worker.errors import ErrorCode
from proportrait.outage import DiskSpaceLow, ServiceUnavailable


def test_every_generation_and_outage_code_is_documented() -> None:
    from portraits import api  # noqa: F401  (loads DRF's settings before proportrait.api)
    from proportrait.api import ERROR_CODES

    codes = {code.value for code in ErrorCode} | {ServiceUnavailable.code, DiskSpaceLow.code}
    assert codes - set(ERROR_CODES) == set()
