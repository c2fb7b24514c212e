from django.db import migrations


def load_authorities(apps, schema_editor):
    from registers.authorities import AUTHORITIES

    IntegrationAuthority = apps.get_model("registers", "IntegrationAuthority")
    for code, name, _weight in AUTHORITIES:
        IntegrationAuthority.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("registers", "0002_row_level_security")]

    operations = [migrations.RunPython(load_authorities, migrations.RunPython.noop)]
