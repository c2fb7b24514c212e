"""The register list's pages from indexes in its sort order, and its counts from an index alone.

Under the row-level policies the planner cannot see how many people a list holds: it takes the
policies' authority check for a filter of its own and guesses a thirtieth of the register. For
a practitioner's 11,000 people it then sorted them all to show 50 (7 ms) rather than walk an
index in order (0.2 ms). The name and review indexes now hold what the list and the policies
filter on (locality, date left, id), so that walking them is the cheaper plan in its eyes too;
the counts by category and risk rating come from one index without the table.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0019_trend_spells_large_inserts_rebuild"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="person",
            name="person_authority_name",
        ),
        migrations.RemoveIndex(
            model_name="person",
            name="person_authority_review",
        ),
        migrations.RemoveIndex(
            model_name="person",
            name="person_register_counts",
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["authority", "family_name", "given_name", "id"],
                include=("locality", "date_left"),
                name="person_authority_name",
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("date_left__isnull", True)),
                fields=["authority", "next_review_due", "family_name", "id"],
                include=("locality",),
                name="person_register_review",
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("date_left__isnull", True)),
                fields=["authority", "locality", "category", "urgent_reason", "risk_rating"],
                include=("id",),
                name="person_register_buckets",
            ),
        ),
    ]
