from rest_framework import serializers

from reporting.models import AuthorityReturn


class AuthorityReturnSerializer(serializers.ModelSerializer):
    """An authority's quarterly return: status and aggregate tables, never person-level rows."""

    authority = serializers.CharField(source="authority.code")
    authority_name = serializers.CharField(source="authority.name")

    class Meta:
        model = AuthorityReturn
        fields = [
            "authority",
            "authority_name",
            "census_date",
            "status",
            "built_at",
            "submitted_at",
            "decided_at",
            "comment",
            "in_transition",
            "warnings",
            "tables",
        ]
        read_only_fields = fields
