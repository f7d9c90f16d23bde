"""Which address counts for rate limits and consent records, with and without a proxy."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from proportrait.http import client_ip, ip_bucket


def request(remote: str, forwarded: str | None = None) -> Any:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_socket_address_counts_and_forwarded_headers_are_ignored(settings: Any) -> None:
    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 0
    assert client_ip(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_one_proxy_a_client_cannot_choose_its_address(settings: Any) -> None:
    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 1
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real peer.
    assert client_ip(request("10.0.0.2", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(request("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies(settings: Any) -> None:
    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 2
    assert client_ip(request("10.0.0.3", "6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"


@pytest.mark.parametrize("forwarded", ["", "not-an-ip", "unknown, also-bad"])
def test_garbage_is_not_an_address(settings: Any, forwarded: str) -> None:
    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 1
    assert client_ip(request("10.0.0.2", forwarded)) in {None, "10.0.0.2"}


def test_ipv6_clients_are_limited_per_64() -> None:
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert ip_bucket("203.0.113.9") == "203.0.113.9"
    assert ip_bucket(None) == "unknown"


@pytest.mark.django_db
def test_spoofed_forwarded_headers_do_not_escape_the_upload_limit(
    api_client: Any, consent_fields: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests import photos

    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 1
    settings.PROPORTRAIT_UPLOADS_PER_HOUR = 1
    codes = []
    with django_capture_on_commit_callbacks(execute=False):
        for fake in ["1.1.1.1", "2.2.2.2", "3.3.3.3"]:
            response = api_client.post(
                "/api/v1/jobs/",
                {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
                format="multipart",
                HTTP_X_FORWARDED_FOR=f"{fake}, 203.0.113.9",
                REMOTE_ADDR="10.0.0.2",
            )
            codes.append(response.status_code)
    assert codes == [201, 429, 429]
