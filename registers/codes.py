"""The register's code lists (domain.md). The stored values are the API's values."""

from django.db import models


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    NOT_KNOWN = "not_known", "Not known"


class Category(models.TextChoices):
    URGENT = "urgent", "Urgent"
    ENHANCED_MONITORING = "enhanced_monitoring", "Enhanced monitoring"
    APPROPRIATE_OUT_OF_AREA = "appropriate_out_of_area", "Appropriate out of area"


class UrgentReason(models.TextChoices):
    IN_HOSPITAL = "in_hospital", "In hospital"
    INAPPROPRIATE_OUT_OF_AREA = "inappropriate_out_of_area", "Inappropriate out-of-area placement"
    AT_RISK_OF_BREAKDOWN = "at_risk_of_breakdown", "At risk of breakdown"


class RiskRating(models.TextChoices):
    RED = "red", "Red: breakdown likely without immediate action"
    AMBER = "amber", "Amber: at risk without extra support soon"
    GREEN = "green", "Green: risks managed"


class RiskFactor(models.TextChoices):
    PROVIDER_NOTICE = "provider_notice", "Provider has given notice"
    CARER_BREAKDOWN = "carer_breakdown", "Carer breakdown"
    MENTAL_HEALTH = "mental_health", "Mental health"
    BEHAVIOUR_ESCALATING = "behaviour_escalating", "Behaviour escalating"
    FORENSIC_INVOLVEMENT = "forensic_involvement", "Forensic involvement"
    RECENT_CRISIS = "recent_crisis", "Recent crisis"
    STAFFING_CHANGES = "staffing_changes", "Staffing changes"
    HOUSING = "housing", "Housing"
    TRANSITION = "transition", "Transition"
    PHYSICAL_HEALTH = "physical_health", "Physical health"
    OTHER = "other", "Other"


class ReferralSource(models.TextChoices):
    HEALTH = "health", "Health"
    SOCIAL_WORK = "social_work", "Social work"
    PROVIDER = "provider", "Provider"
    FAMILY = "family", "Family"
    SELF = "self", "Self"
    OTHER = "other", "Other"


class HospitalType(models.TextChoices):
    LD_INPATIENT = "ld_inpatient", "Learning disability inpatient"
    MENTAL_HEALTH_INPATIENT = "mental_health_inpatient", "Mental health inpatient"
    GENERAL_ACUTE = "general_acute", "General acute"
    FORENSIC_SECURE = "forensic_secure", "Forensic or secure"


class LegalStatus(models.TextChoices):
    INFORMAL = "informal", "Informal"
    SHORT_TERM_DETENTION = "short_term_detention", "Short-term detention"
    COMPULSORY_TREATMENT_ORDER = "compulsory_treatment_order", "Compulsory treatment order"
    CRIMINAL_PROCEDURE_ORDER = "criminal_procedure_order", "Criminal procedure order"
    OTHER = "other", "Other"


class DelayReason(models.TextChoices):
    ACCOMMODATION = "accommodation", "Accommodation"
    CARE_PROVIDER = "care_provider", "Care provider"
    ADULTS_WITH_INCAPACITY = "adults_with_incapacity", "Adults with incapacity"
    FUNDING = "funding", "Funding"
    PERSON_OR_FAMILY = "person_or_family", "Person or family"
    OTHER = "other", "Other"


class HostAreaOutsideScotland(models.TextChoices):
    """Host areas beyond Scotland; a host area inside Scotland is another IA's code."""

    ENGLAND = "england", "England"
    WALES = "wales", "Wales"
    NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"
    OUTSIDE_UK = "outside_uk", "Outside the UK"


class PlacementType(models.TextChoices):
    CARE_HOME = "care_home", "Care home"
    SUPPORTED_LIVING = "supported_living", "Supported living"
    HOSPITAL = "hospital", "Hospital"
    OTHER = "other", "Other"


class LeavingReason(models.TextChoices):
    SETTLED_IN_COMMUNITY = "settled_in_community", "Settled in the community"
    NO_LONGER_MEETS_CRITERIA = "no_longer_meets_criteria", "No longer meets criteria"
    TRANSFERRED_TO_OTHER_IA = "transferred_to_other_ia", "Transferred to another IA"
    MOVED_OUTSIDE_SCOTLAND = "moved_outside_scotland", "Moved outside Scotland"
    DIED = "died", "Died"
    DECLINED = "declined", "Declined"
    OTHER = "other", "Other"


class ChangeKind(models.TextChoices):
    ADDED = "added", "Added to the register"
    DETAILS = "details", "Details updated"
    STATUS = "status", "Status changed"
    REVIEW_SCHEDULED = "review_scheduled", "Review scheduled"
    REVIEW_RECORDED = "review_recorded", "Review recorded"
    LOCALITY = "locality", "Moved locality"
    LEFT = "left", "Left the register"


# Codes that older data may carry, mapped to today's (domain.md).
REPLACED_AUTHORITY_CODES = {
    "S37000014": "S37000032",  # Fife
    "S37000015": "S37000034",  # Glasgow City
    "S37000021": "S37000035",  # North Lanarkshire
    "S37000023": "S37000033",  # Perth and Kinross
}


def values(choices: type[models.TextChoices]) -> list[str]:
    return [c.value for c in choices]


class TransferStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the receiving authority"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
