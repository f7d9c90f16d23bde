"""The embedded default's filesystem broker skips an unreadable message (a 0-byte file left by a
full disk, a truncated one) and moves it to the quarantine folder, instead of killing the
worker on every start; messages are written whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from proportrait import broker


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    names = ("queue", "processed", "control", "quarantine")
    paths = {name: tmp_path / name for name in names}
    for path in paths.values():
        path.mkdir()
    return paths


@pytest.fixture
def connection(folders: dict[str, Path]) -> Iterator[Connection]:
    broker.register()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "quarantine_folder": str(folders["quarantine"]),
        "store_processed": False,
    }
    with Connection("filesystem://localhost/", transport_options=options) as conn:
        yield conn


def test_it_uses_the_hardened_transport(connection: Connection) -> None:
    assert isinstance(connection.default_channel, broker.Channel)


def test_it_skips_and_quarantines_unreadable_messages_and_delivers_the_next(
    connection: Connection, folders: dict[str, Path]
) -> None:
    channel = connection.default_channel
    # Sorted before the good message, as a message from an earlier full disk would be.
    (folders["queue"] / "0000_empty.gpu.msg").write_bytes(b"")
    (folders["queue"] / "0001_truncated.gpu.msg").write_bytes(b'{"body": "eyJ')
    channel._put("gpu", {"body": "good"})
    assert channel._get("gpu") == {"body": "good"}
    with pytest.raises(Empty):
        channel._get("gpu")
    assert sorted(path.name for path in folders["quarantine"].iterdir()) == [
        "0000_empty.gpu.msg",
        "0001_truncated.gpu.msg",
    ]
    assert [path.name for path in folders["queue"].iterdir()] == []


def test_it_writes_a_message_whole_or_not_at_all(
    connection: Connection, folders: dict[str, Path], monkeypatch: Any
) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ChannelError):
        connection.default_channel._put("gpu", {"body": "job"})
    assert list(folders["queue"].iterdir()) == []
