# The published figures of a national build, stored on its job for the national figures page.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0007_job_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportjob",
            name="release",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="reportjob",
            index=models.Index(
                condition=models.Q(
                    ("authority__isnull", True), ("release__isnull", False), ("status", "done")
                ),
                fields=["census_date", "-finished_at"],
                name="job_national_release",
            ),
        ),
    ]
