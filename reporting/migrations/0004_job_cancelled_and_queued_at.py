# A job can be cancelled; `queued_at` (set on creation and on each retry) tells a job that lost its
# task (still queued past DSR_JOB_QUEUED_LIMIT_SECONDS) from one waiting for a busy worker.
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0003_national_disclosure_audit_job"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="reportjob",
            name="job_status_known",
        ),
        migrations.AddField(
            model_name="reportjob",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="reportjob",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="queued",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="reportjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["queued", "running", "done", "failed", "cancelled"])
                ),
                name="job_status_known",
            ),
        ),
    ]
