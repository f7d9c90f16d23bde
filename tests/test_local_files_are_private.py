"""On the embedded default, var/ is 0700 and what is written in it 0600, whatever the umask.

Found: `var/proportrait.sqlite3` and `var/mail/*` were created 0644 (umask 022), and the mail
files hold verification codes and links. A real process is started with umask 022, as a shell
would, and the modes it leaves are read back.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", "-v", "0")
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from proportrait.emails import send_email
send_email("dsar-code", ["someone@example.com"], {"reference": "DSAR-1", "code": "123456",
           "code_minutes": 15, "verify_url": "http://x/", "company": "ProPortrait"}, on_commit=False)
FileSystemStorage(location=settings.PROPORTRAIT_STORAGE_DIR).save("objects/a.bin", ContentFile(b"x"))
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_var_and_what_it_holds_are_private_to_the_service(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)  # as an earlier version left it
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "EMAIL_HOST", "PROPORTRAIT_TEST_STACK", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        {
            "PROPORTRAIT_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "proportrait.settings",
            "SECRET_KEY": "test-only-secret-key-for-file-modes-0123456789",
            "PROPORTRAIT_MASTER_KEYS": "k1:" + "A" * 43 + "=",
        }
    )

    subprocess.run(
        ["sh", "-c", f"umask 022 && exec {sys.executable} -c '{SCRIPT}'"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )

    assert mode(var_dir) == 0o700
    database = var_dir / "proportrait.sqlite3"
    mail_files = list((var_dir / "mail").glob("*.log"))
    stored = var_dir / "storage" / "objects" / "a.bin"
    assert database.exists() and len(mail_files) == 1 and stored.exists()
    assert mode(database) == 0o600
    assert mode(var_dir / "mail") == 0o700 and mode(mail_files[0]) == 0o600
    assert mode(stored) == 0o600 and mode(stored.parent) == 0o700
    everything = [path for path in var_dir.rglob("*")]
    loose = [str(path) for path in everything if mode(path) & 0o077]
    assert loose == [], loose


def test_the_verification_code_is_not_in_a_subject_line() -> None:
    from proportrait.emails import render_email

    context = {"reference": "DSAR-1", "code": "482913", "code_minutes": 15, "verify_url": "http://x/"}
    for name in ("dsar-received", "dsar-code"):
        subject, text, html = render_email(name, {**context, "request": None, "request_type": "Access"})
        assert "482913" not in subject, name
        assert "482913" in text and "482913" in html, name
