"""Every lookup of a person by address compares a stored normalised key exactly."""

from typing import Any

from django.db import migrations, models


def fill_email_keys(apps: Any, schema_editor: Any) -> None:
    from proportrait.addresses import normalise_email

    user_model = apps.get_model("accounts", "User")
    taken: set[str] = set()
    for user in user_model.objects.order_by("pk").only("pk", "email"):
        key = normalise_email(user.email) or None
        # Two old accounts whose addresses now normalise alike: the older keeps the key, the other
        # matches no lookup by address until staff sort it out (it can still sign in by session).
        if key in taken:
            key = None
        if key:
            taken.add(key)
        user_model.objects.filter(pk=user.pk).update(email_key=key)
    invitation_model = apps.get_model("accounts", "Invitation")
    for invitation in invitation_model.objects.only("pk", "email"):
        invitation_model.objects.filter(pk=invitation.pk).update(email_key=normalise_email(invitation.email))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_team_subscriptions"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="email_key",
            field=models.CharField(db_index=True, default="", editable=False, max_length=400),
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=400, null=True, unique=True),
        ),
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
    ]
