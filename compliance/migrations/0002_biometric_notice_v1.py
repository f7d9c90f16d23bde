"""Publish version 1 of the biometric consent notice (BIPA 15(b), GDPR Art. 9(2)(a))."""

import hashlib

from django.db import migrations
from django.utils import timezone

TITLE = "Consent to process your photo (biometric data)"
TEXT = """\
What we do: you upload one photo of yourself. We use it only to create professional portraits of you. \
To do this, our software finds your face and its outline in the photo. Because that uses the geometry of \
your face, we treat your photo as biometric data.

What happens to your photo: it is encrypted as soon as it arrives and is read only by our portrait \
generator, in memory. When your portraits are ready, or if something goes wrong, the photo and its \
encryption key are destroyed. It is never kept longer than 15 minutes. We never store face measurements, \
face crops or any face template, and we never use your photo to train any model.

How long your portraits live: without an account, your portraits are deleted automatically after 24 hours. \
With an account or through your employer, they follow the retention schedule published on our Retention \
page. You can delete them at any moment with one click.

Sharing: we do not sell, lease or trade your photo or portraits. No one else receives your photo. The \
providers that host our systems are listed on our Sub-processors page.

Your rights: you can withdraw this consent at any time with the control next to your portraits; we then \
delete your portraits at once. You can ask for a copy of your data, or for its erasure, through the data \
rights form, without an account. You can complain to your data protection authority.

By ticking the box and typing your full name, you give your explicit, written consent to this processing."""


def publish(apps, schema_editor):
    ConsentDocument = apps.get_model("compliance", "ConsentDocument")
    ConsentDocument.objects.get_or_create(
        kind="biometric",
        version=1,
        defaults={
            "title": TITLE,
            "text": TEXT,
            "sha256": hashlib.sha256(TEXT.encode("utf-8")).hexdigest(),
            "effective_at": timezone.now(),
            "jurisdiction_notes": "GDPR Art. 9(2)(a); BIPA 740 ILCS 14/15(b) (electronic signature); Texas CUBI; RCW 19.375.",
        },
    )


def unpublish(apps, schema_editor):
    apps.get_model("compliance", "ConsentDocument").objects.filter(kind="biometric", version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(publish, unpublish)]
