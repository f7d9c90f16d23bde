"""Export links carry a lookup token; the file's key is kept wrapped and wiped on expiry."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def expire_old_links(apps, schema_editor):
    # Links made before this change carried the key and no longer resolve: expire their exports
    # so the next housekeeping run deletes the files.
    apps.get_model("compliance", "DataExport").objects.filter(deleted_at__isnull=True).update(
        expires_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0005_dsar_proven_job_id"),
        ("portraits", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataexport",
            name="token_sha256",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dataexport",
            name="data_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="portraits.datakey",
            ),
        ),
        migrations.RunPython(expire_old_links, migrations.RunPython.noop),
        migrations.RemoveField(model_name="dataexport", name="key_sha256"),
    ]
