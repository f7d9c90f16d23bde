"""Registers keep every version: records of processing and breaches get version rows (the
current text of each existing record becomes version 1), breaches the Art. 33(3) fields,
sub-processor changes a schedule with notice, and DPA acceptances the Annex III they accepted."""

import django.db.models.deletion
from django.db import migrations, models


ROPA = [
    "name", "role", "purpose", "legal_basis", "data_subjects", "data_categories", "recipients",
    "transfers", "retention", "security_measures",
]


def first_versions(apps, schema_editor):
    from django.utils import timezone

    now = timezone.now()
    activity_version = apps.get_model("compliance", "ProcessingActivityVersion")
    for activity in apps.get_model("compliance", "ProcessingActivity").objects.all():
        activity_version.objects.create(
            activity=activity,
            version=1,
            values={field: str(getattr(activity, field)) for field in ROPA},
            changed_at=now,
            changed_by="migration",
            reason="the record as it stood when versioning began",
        )
    breach_version = apps.get_model("compliance", "BreachIncidentVersion")
    for incident in apps.get_model("compliance", "BreachIncident").objects.all():
        breach_version.objects.create(
            incident=incident,
            version=1,
            values={
                "title": incident.title,
                "description": incident.description,
                "detected_at": incident.detected_at.isoformat(),
                "authority_notified_at": incident.authority_notified_at.isoformat()
                if incident.authority_notified_at
                else None,
            },
            changed_at=now,
            changed_by="migration",
            reason="the record as it stood when versioning began",
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_invitations_submissions_api_tokens'),
        ('compliance', '0007_audit_keyed_chain_checkpoints'),
    ]

    operations = [
        migrations.AddField(
            model_name='breachincident',
            name='affected_records_count',
            field=models.PositiveIntegerField(default=0, help_text='Approximate number of records.'),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='authority_notice_backdate_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='authority_notice_recorded_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='jurisdictions',
            field=models.JSONField(blank=True, default=list, help_text='Keys of the deadline table that apply.'),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='likely_consequences',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='measures_proposed',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='nature',
            field=models.TextField(blank=True, help_text='What happened to which data (confidentiality, integrity, availability).'),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='record_categories',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='subject_categories',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='subjects_notified_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='breachincident',
            name='version',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='dpaacceptance',
            name='register_version',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='dpaacceptance',
            name='subprocessors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='processingactivity',
            name='retired_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='processingactivity',
            name='version',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='subprocessor',
            name='receives_photos',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='breachincident',
            name='affected_subjects_count',
            field=models.PositiveIntegerField(default=0, help_text='Approximate number of people.'),
        ),
        migrations.AlterField(
            model_name='subprocessorchangenotice',
            name='register_version',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='compliance.subprocessorregisterversion'),
        ),
        migrations.AlterField(
            model_name='subprocessorobjection',
            name='register_version',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='compliance.subprocessorregisterversion'),
        ),
        migrations.CreateModel(
            name='BreachCommunication',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('template', models.CharField(max_length=80)),
                ('recipients_count', models.PositiveIntegerField()),
                ('sent_at', models.DateTimeField()),
                ('sent_by', models.CharField(max_length=100)),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='communications', to='compliance.breachincident')),
            ],
        ),
        migrations.CreateModel(
            name='BreachIncidentVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('values', models.JSONField()),
                ('changed_at', models.DateTimeField()),
                ('changed_by', models.CharField(max_length=100)),
                ('reason', models.TextField()),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='compliance.breachincident')),
            ],
            options={
                'ordering': ['incident', '-version'],
            },
        ),
        migrations.CreateModel(
            name='ProcessingActivityVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('values', models.JSONField()),
                ('changed_at', models.DateTimeField()),
                ('changed_by', models.CharField(max_length=100)),
                ('reason', models.TextField()),
                ('activity', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='compliance.processingactivity')),
            ],
            options={
                'ordering': ['activity', '-version'],
            },
        ),
        migrations.CreateModel(
            name='SubprocessorChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('add', 'Add a sub-processor'), ('update', 'Change a sub-processor'), ('retire', 'Stop using a sub-processor')], max_length=10)),
                ('values', models.JSONField(blank=True, default=dict)),
                ('change_summary', models.TextField()),
                ('scheduled_at', models.DateTimeField()),
                ('scheduled_by', models.CharField(max_length=100)),
                ('effective_at', models.DateTimeField(db_index=True)),
                ('status', models.CharField(choices=[('scheduled', 'Scheduled (notice given)'), ('applied', 'In effect'), ('cancelled', 'Cancelled')], default='scheduled', max_length=10)),
                ('applied_at', models.DateTimeField(blank=True, null=True)),
                ('cancelled_reason', models.TextField(blank=True)),
                ('register_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='compliance.subprocessorregisterversion')),
                ('subprocessor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='compliance.subprocessor')),
            ],
            options={
                'ordering': ['effective_at'],
            },
        ),
        migrations.AddField(
            model_name='subprocessorchangenotice',
            name='change',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='compliance.subprocessorchange'),
        ),
        migrations.AddField(
            model_name='subprocessorobjection',
            name='change',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='objections', to='compliance.subprocessorchange'),
        ),
        migrations.AddConstraint(
            model_name='subprocessorchangenotice',
            constraint=models.UniqueConstraint(fields=('change', 'organisation'), name='one_notice_per_change'),
        ),
        migrations.AddConstraint(
            model_name='breachincidentversion',
            constraint=models.UniqueConstraint(fields=('incident', 'version'), name='breach_version_once'),
        ),
        migrations.AddConstraint(
            model_name='processingactivityversion',
            constraint=models.UniqueConstraint(fields=('activity', 'version'), name='processing_activity_version_once'),
        ),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
    ]
