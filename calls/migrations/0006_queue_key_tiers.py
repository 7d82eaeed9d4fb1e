from django.db import migrations

from core.triage.waiting import queue_key


def tiers(apps, schema_editor):
    """Open cases keyed by due time alone: CRITICAL, then HIGH, then NORMAL and LOW together."""
    Case = apps.get_model("calls", "Case")
    for case in Case.objects.exclude(status="closed").exclude(due_at=None).only("pk", "due_at", "priority_band").iterator():
        Case.objects.filter(pk=case.pk).update(queue_key=queue_key(case.priority_band, case.due_at.timestamp()))


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0005_case_outcome_more'),
    ]

    operations = [
        migrations.RunPython(tiers, migrations.RunPython.noop),
    ]
