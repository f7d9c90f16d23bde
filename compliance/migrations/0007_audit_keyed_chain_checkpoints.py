"""The audit chain becomes keyed (HMAC) and signed (checkpoints), and append-only in PostgreSQL.

Events written before this change were chained with plain SHA-256, which anyone with database
access could recompute. They are verified as they stand, then re-chained once with the keyed hash
(renumbered without gaps), and an `audit.chain_keyed` event records the old head and whether the
old chain was intact. Certificates' hash lists are mapped to the new hashes.
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


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0006_export_wrapped_key'),
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
        migrations.RunPython(key_the_chain, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
