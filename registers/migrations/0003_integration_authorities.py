"""Scotland's 31 Integration Authorities (2019 HSCP codes, S37), copied here so that this migration
does the same whenever it runs, whatever later becomes of `registers/authorities.py`."""

from django.db import migrations

AUTHORITIES = [
    ("S37000001", "Aberdeen City"),
    ("S37000002", "Aberdeenshire"),
    ("S37000003", "Angus"),
    ("S37000004", "Argyll and Bute"),
    ("S37000005", "Clackmannanshire and Stirling"),
    ("S37000006", "Dumfries and Galloway"),
    ("S37000007", "Dundee City"),
    ("S37000008", "East Ayrshire"),
    ("S37000009", "East Dunbartonshire"),
    ("S37000010", "East Lothian"),
    ("S37000011", "East Renfrewshire"),
    ("S37000012", "Edinburgh"),
    ("S37000013", "Falkirk"),
    ("S37000016", "Highland"),
    ("S37000017", "Inverclyde"),
    ("S37000018", "Midlothian"),
    ("S37000019", "Moray"),
    ("S37000020", "North Ayrshire"),
    ("S37000022", "Orkney Islands"),
    ("S37000024", "Renfrewshire"),
    ("S37000025", "Scottish Borders"),
    ("S37000026", "Shetland Islands"),
    ("S37000027", "South Ayrshire"),
    ("S37000028", "South Lanarkshire"),
    ("S37000029", "West Dunbartonshire"),
    ("S37000030", "West Lothian"),
    ("S37000031", "Western Isles"),
    ("S37000032", "Fife"),
    ("S37000033", "Perth and Kinross"),
    ("S37000034", "Glasgow City"),
    ("S37000035", "North Lanarkshire"),
]


def load_authorities(apps, schema_editor):
    IntegrationAuthority = apps.get_model("registers", "IntegrationAuthority")
    for code, name in AUTHORITIES:
        IntegrationAuthority.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("registers", "0002_row_level_security")]

    operations = [migrations.RunPython(load_authorities, migrations.RunPython.noop)]
