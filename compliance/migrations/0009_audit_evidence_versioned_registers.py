"""Evidence that cannot be rewritten, and registers that keep every version.

1. The audit chain becomes keyed (HMAC) and signed (checkpoints), and append-only in PostgreSQL.
   Events written before this change were chained with plain SHA-256, which anyone with database
   access could recompute. They are verified as they stand, then re-chained once with the keyed
   hash (renumbered without gaps), and an `audit.chain_keyed` event records the old head and
   whether the old chain was intact. Certificates' hash lists are mapped to the new hashes.
2. Records of processing and breaches get version rows (the current text of each existing record
   becomes version 1), breaches the Art. 33(3) fields, sub-processor changes a schedule with
   notice, and DPA acceptances the Annex III they accepted.

Data steps run after every schema change, and the trigger last.
"""

import base64
import hashlib
import hmac
import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


GENESIS = "0" * 64


def _current_key():
    key_id, _, encoded = settings.PROPORTRAIT_AUDIT_HMAC_KEYS.split(",")[0].strip().partition(":")
    return key_id, base64.b64decode(encoded)


def _json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _keyed(key, previous, *, sequence, key_id, occurred_at, actor, action, object_type, object_id, digest):
    canonical = _json(
        {
            "sequence": sequence,
            "key_id": key_id,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data_sha256": digest,
        }
    )
    return hmac.new(key, (previous + "\n" + canonical).encode("utf-8"), hashlib.sha256).hexdigest()


def key_the_chain(apps, schema_editor):
    from django.utils import timezone

    event_model = apps.get_model("compliance", "AuditEvent")
    head_model = apps.get_model("compliance", "AuditChainHead")
    certificate_model = apps.get_model("compliance", "DeletionCertificate")
    key_id, key = _current_key()
    head, _ = head_model.objects.get_or_create(id=1)
    legacy_previous = head.anchor_hash
    previous = head.anchor_hash
    legacy_intact = True
    mapping = {}
    sequence = head.anchor_sequence
    for event in event_model.objects.order_by("sequence"):
        legacy_canonical = _json(
            {
                "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
                "actor": event.actor,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "data": event.data,
            }
        )
        legacy_hash = hashlib.sha256((legacy_previous + legacy_canonical).encode("utf-8")).hexdigest()
        if event.previous_hash != legacy_previous or legacy_hash != event.hash:
            legacy_intact = False
        legacy_previous = event.hash
        sequence += 1
        digest = hashlib.sha256(_json(event.data).encode("utf-8")).hexdigest()
        new_hash = _keyed(
            key,
            previous,
            sequence=sequence,
            key_id=key_id,
            occurred_at=event.occurred_at,
            actor=event.actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            digest=digest,
        )
        mapping[event.hash] = new_hash
        # Ascending order: the new number is never larger than the old, so it is always free.
        event_model.objects.filter(sequence=event.sequence).update(
            sequence=sequence, data_sha256=digest, key_id=key_id, previous_hash=previous, hash=new_hash
        )
        previous = new_hash
    legacy_head = head.last_hash
    if legacy_head != legacy_previous:
        legacy_intact = False
    for certificate in certificate_model.objects.exclude(audit_hashes=[]):
        certificate_model.objects.filter(pk=certificate.pk).update(
            audit_hashes=[mapping.get(h, h) for h in certificate.audit_hashes]
        )
    if sequence == head.anchor_sequence and legacy_head == GENESIS:
        head.last_sequence = sequence
        head.save()
        return  # a new installation: nothing to record
    data = {"legacy_head_hash": legacy_head, "legacy_chain_intact": legacy_intact, "events_keyed": len(mapping)}
    digest = hashlib.sha256(_json(data).encode("utf-8")).hexdigest()
    occurred_at = timezone.now()
    sequence += 1
    new_hash = _keyed(
        key,
        previous,
        sequence=sequence,
        key_id=key_id,
        occurred_at=occurred_at,
        actor="system",
        action="audit.chain_keyed",
        object_type="audit_chain",
        object_id="1",
        digest=digest,
    )
    event_model.objects.create(
        sequence=sequence,
        occurred_at=occurred_at,
        actor="system",
        action="audit.chain_keyed",
        object_type="audit_chain",
        object_id="1",
        data=data,
        data_sha256=digest,
        key_id=key_id,
        previous_hash=previous,
        hash=new_hash,
    )
    head.last_hash = new_hash
    head.last_sequence = sequence
    head.save()


# UPDATE and DELETE are refused unless the transaction set proportrait.audit_maintenance (the
# redaction and retention paths in compliance/audit.py); even then an UPDATE may change only the
# data and redacted_at columns, which the chain covers by digest.
TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION compliance_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('proportrait.audit_maintenance', true), '') = 'on' THEN
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    IF (NEW.sequence, NEW.occurred_at, NEW.actor, NEW.action, NEW.object_type, NEW.object_id,
        NEW.data_sha256, NEW.key_id, NEW.previous_hash, NEW.hash)
       IS DISTINCT FROM
       (OLD.sequence, OLD.occurred_at, OLD.actor, OLD.action, OLD.object_type, OLD.object_id,
        OLD.data_sha256, OLD.key_id, OLD.previous_hash, OLD.hash) THEN
      RAISE EXCEPTION 'audit events: redaction may change data and redacted_at only (event %)', OLD.sequence
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit events are append-only: % refused on event %', TG_OP, OLD.sequence
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS compliance_auditevent_append_only ON compliance_auditevent;
CREATE TRIGGER compliance_auditevent_append_only BEFORE UPDATE OR DELETE ON compliance_auditevent
  FOR EACH ROW EXECUTE FUNCTION compliance_auditevent_append_only();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS compliance_auditevent_append_only ON compliance_auditevent;
DROP FUNCTION IF EXISTS compliance_auditevent_append_only();
"""


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Without parameters, so the driver leaves the '%' of RAISE alone.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP_TRIGGER_SQL)


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
        ('compliance', '0008_dsar_account_confirmation_and_notice_results'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.BigIntegerField(db_index=True)),
                ('head_hash', models.CharField(max_length=64)),
                ('signed_at', models.DateTimeField()),
                ('key_id', models.CharField(max_length=32)),
                ('payload', models.TextField()),
                ('signature', models.CharField(max_length=100)),
                ('reason', models.CharField(choices=[('interval', 'Scheduled'), ('certificate', 'Deletion certificate'), ('manual', 'Requested by staff')], max_length=20)),
                ('storage_key', models.CharField(blank=True, max_length=200)),
                ('published_at', models.DateTimeField(blank=True, null=True)),
                ('mailed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-sequence', '-signed_at'],
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='data_sha256',
            field=models.CharField(default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='key_id',
            field=models.CharField(default='', max_length=32),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='redacted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='deletioncertificate',
            name='event_hash',
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name='deletioncertificate',
            name='event_sequence',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='deletioncertificate',
            name='checkpoint',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='certificates', to='compliance.auditcheckpoint'),
        ),

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
        migrations.RunPython(key_the_chain, migrations.RunPython.noop),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
