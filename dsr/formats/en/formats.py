"""The one date format for display (registers/labels.py): "17 December 2026", short
"17 Dec 2026". Input formats stay Django's for en-GB (day/month/year)."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
