"""ResultsEmail.address_key: the normalised address a data-rights request by address compares."""

from typing import Any

from django.db import migrations, models


def fill_address_keys(apps: Any, schema_editor: Any) -> None:
    from proportrait.addresses import normalise_email

    results_email = apps.get_model("portraits", "ResultsEmail")
    for entry in results_email.objects.all().only("pk", "address"):
        results_email.objects.filter(pk=entry.pk).update(address_key=normalise_email(entry.address))


class Migration(migrations.Migration):
    dependencies = [
        ("portraits", "0004_results_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="resultsemail",
            name="address_key",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=400),
        ),
        migrations.RunPython(fill_address_keys, migrations.RunPython.noop),
    ]
