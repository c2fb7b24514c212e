from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registers", "0006_audit_redaction_and_entry_erasure")]

    # Localities sort by their authority's id, not its name: no join to the authority table.
    operations = [
        migrations.AlterModelOptions(
            name="locality",
            options={
                "ordering": ["authority_id", "name"],
                "permissions": [
                    ("view_people_in_locality", "Read people in the locality"),
                    ("change_people_in_locality", "Add and update people in the locality"),
                ],
                "verbose_name_plural": "localities",
            },
        ),
    ]
