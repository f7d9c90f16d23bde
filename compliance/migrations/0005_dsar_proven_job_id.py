"""Keep the job id a DSAR's job token proves, never the token itself."""

import hashlib

from django.db import migrations, models


def resolve_tokens(apps, schema_editor):
    # Requests received before this change held the raw bearer token: resolve it the way the
    # default resolver does (SHA-256 against the job's token hash), keep the id, drop the token.
    request_model = apps.get_model("compliance", "DataSubjectRequest")
    job_model = apps.get_model("portraits", "PortraitJob")
    for request in request_model.objects.exclude(job_reference=""):
        digest = hashlib.sha256(request.job_reference.strip().encode()).hexdigest()
        job_id = job_model.objects.filter(token_hash=digest).values_list("id", flat=True).first()
        request_model.objects.filter(pk=request.pk).update(
            proven_job_id=str(job_id) if job_id else "", job_reference=""
        )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0004_dpa_terms_registers_seed"),
        ("portraits", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasubjectrequest",
            name="proven_job_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(resolve_tokens, migrations.RunPython.noop),
        migrations.RemoveField(model_name="datasubjectrequest", name="job_reference"),
    ]
