"""Webhooks: an API client's endpoint, registered by the lead, and its deliveries
(registers/webhooks.py). Both are tenant tables under the policy of dsr/rls.py, written out."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

POLICY = """
ALTER TABLE registers_webhookendpoint ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_webhookendpoint FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_webhookendpoint FOR ALL USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])) WITH CHECK (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_webhookendpoint FOR SELECT USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY system_all ON registers_webhookendpoint TO dsr_system USING (true) WITH CHECK (true);
CREATE POLICY scope_sealed ON registers_webhookendpoint AS RESTRICTIVE FOR ALL USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));
CREATE TRIGGER registers_webhookendpoint_no_truncate BEFORE TRUNCATE ON registers_webhookendpoint FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
ALTER TABLE registers_webhookdelivery ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_webhookdelivery FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_webhookdelivery FOR ALL USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])) WITH CHECK (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_webhookdelivery FOR SELECT USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY system_all ON registers_webhookdelivery TO dsr_system USING (true) WITH CHECK (true);
CREATE POLICY scope_sealed ON registers_webhookdelivery AS RESTRICTIVE FOR ALL USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));
CREATE TRIGGER registers_webhookdelivery_no_truncate BEFORE TRUNCATE ON registers_webhookdelivery FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
REVERSE_POLICY = """
DROP TRIGGER IF EXISTS registers_webhookendpoint_no_truncate ON registers_webhookendpoint;
DROP POLICY IF EXISTS scope_sealed ON registers_webhookendpoint;
DROP POLICY IF EXISTS system_all ON registers_webhookendpoint;
DROP POLICY IF EXISTS tenant_read ON registers_webhookendpoint;
DROP POLICY IF EXISTS tenant_write ON registers_webhookendpoint;
ALTER TABLE registers_webhookendpoint NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_webhookendpoint DISABLE ROW LEVEL SECURITY;
DROP TRIGGER IF EXISTS registers_webhookdelivery_no_truncate ON registers_webhookdelivery;
DROP POLICY IF EXISTS scope_sealed ON registers_webhookdelivery;
DROP POLICY IF EXISTS system_all ON registers_webhookdelivery;
DROP POLICY IF EXISTS tenant_read ON registers_webhookdelivery;
DROP POLICY IF EXISTS tenant_write ON registers_webhookdelivery;
ALTER TABLE registers_webhookdelivery NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_webhookdelivery DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_identity_providers"),
        ("registers", "0014_person_change_log"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=500, verbose_name="address")),
                ("secret_salt", models.CharField(max_length=64)),
                ("position", models.BigIntegerField(default=0)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("removed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "api_client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhooks",
                        to="accounts.apiclient",
                    ),
                ),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registers.integrationauthority",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("after", models.BigIntegerField()),
                ("next", models.BigIntegerField()),
                ("payload", models.JSONField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to be sent"),
                            ("retrying", "Failed, will be tried again"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed, no more attempts"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registers.integrationauthority",
                    ),
                ),
                (
                    "endpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="registers.webhookendpoint",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="webhookendpoint",
            index=models.Index(fields=["authority", "removed_at"], name="webhook_authority"),
        ),
        migrations.AddConstraint(
            model_name="webhookendpoint",
            constraint=models.UniqueConstraint(
                condition=models.Q(("removed_at__isnull", True)),
                fields=("api_client",),
                name="webhook_one_per_client",
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["authority", "endpoint", "created_at"], name="webhook_delivery_at"
            ),
        ),
        migrations.RunSQL(POLICY, REVERSE_POLICY),
    ]
