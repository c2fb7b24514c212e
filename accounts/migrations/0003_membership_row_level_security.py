from django.db import migrations

from dsr.rls import enable_tenant_rls


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_memberships_and_grants")]

    # A user reads their own memberships to learn their scope; staff lists need the authority.
    operations = [enable_tenant_rls("accounts_membership", own_user_rows=True)]
