# Outcomes a call-taker needs besides dispatch: duplicate, silent/abandoned, referred. Only the
# choices change; no stored outcome is rewritten (history stays as it was recorded).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0004_case_due_and_marks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='case',
            name='outcome',
            field=models.CharField(blank=True, choices=[
                ('dispatched_police', 'Dispatched to police'), ('dispatched_fire', 'Dispatched to fire'),
                ('dispatched_health', 'Dispatched to health'),
                ('dispatched_womens_help', "Dispatched to women's help"), ('resolved', 'Resolved'),
                ('prank', 'Prank'), ('duplicate', 'Duplicate of another call'),
                ('silent_abandoned', 'Silent or abandoned call'), ('referred', 'Referred to another service'),
            ], max_length=32),
        ),
    ]
