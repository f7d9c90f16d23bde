"""On the embedded default, mail written as files does not pile up: it holds codes and addresses."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from proportrait.emails import delete_old_mail_files


@pytest.fixture
def mail_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    settings.PROPORTRAIT_MAIL_FILE_RETENTION_DAYS = 7
    return folder


def write(folder: Path, name: str, age_days: float) -> Path:
    path = folder / name
    path.write_text("Subject: Your code is 123456\n")
    stamp = time.time() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


def test_mail_files_past_the_retention_are_deleted(mail_dir: Path) -> None:
    old = write(mail_dir, "20260101-000000-1.log", age_days=8)
    recent = write(mail_dir, "20260108-000000-2.log", age_days=1)
    assert delete_old_mail_files() == 1
    assert not old.exists() and recent.exists()


def test_nothing_is_deleted_when_mail_goes_out_over_smtp(mail_dir: Path, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    old = write(mail_dir, "20260101-000000-1.log", age_days=30)
    assert delete_old_mail_files() == 0 and old.exists()


@pytest.mark.django_db
def test_the_daily_housekeeping_deletes_old_mail_files(mail_dir: Path) -> None:
    from compliance.services.housekeeping import run_daily_housekeeping

    write(mail_dir, "20260101-000000-1.log", age_days=8)
    assert run_daily_housekeeping()["mail_files_deleted"] == 1
