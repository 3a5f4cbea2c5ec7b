"""Names shared with bot/domain.yml: change them in both places."""

ACTION_OPENING_HOURS = "action_opening_hours"

METADATA_MUNICIPALITY = "municipality"
