"""Names shared with bot/domain.yml and bot/data: change them in both places."""

# intents
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"
INTENT_CHOOSE_GUIDE = "choose_guide"
INTENT_NONE_OF_THEM = "none_of_them"
INTENT_KEEP_TOPIC = "keep_topic"
INTENT_REQUEST_HUMAN = "request_human"
INTENT_REQUEST_CALLBACK = "request_callback"
INTENT_COMPLAINT = "complaint"
INTENT_CANCEL = "cancel"
INTENT_OUT_OF_SCOPE = "out_of_scope"

# slots
SLOT_AWAITING_FEEDBACK = "awaiting_feedback"
SLOT_CALLBACK_OFFERED = "callback_offered"
SLOT_AWAITING_CONFIRMATION = "awaiting_confirmation"
SLOT_LAST_QUESTION = "last_question"
SLOT_LAST_GUIDE = "last_guide"
SLOT_DEPARTMENT = "department"
SLOT_GUESSES = "guesses"
SLOT_FALLBACK_COUNT = "fallback_count"
SLOT_CALLBACK_ID = "callback_id"
SLOT_SUGGESTED_TOPIC = "suggested_topic"
SLOT_GUIDE_SLUG = "guide_slug"
SLOT_CALLBACK_NAME = "callback_name"
SLOT_CALLBACK_PHONE = "callback_phone"
SLOT_CALLBACK_SLOT = "callback_slot"
SLOT_CALLBACK_TOPIC = "callback_topic"
SLOT_REQUESTED = "requested_slot"

# actions and forms
ACTION_OPENING_HOURS = "action_opening_hours"
ACTION_ANSWER_FROM_GUIDES = "action_answer_from_guides"
ACTION_FEEDBACK = "action_feedback"
ACTION_ESCALATE = "action_escalate"
ACTION_ASK_CALLBACK_SLOT = "action_ask_callback_slot"
ACTION_ASK_CALLBACK_TOPIC = "action_ask_callback_topic"
ACTION_VALIDATE_CALLBACK_FORM = "validate_callback_form"
ACTION_CONFIRM_CALLBACK = "action_confirm_callback"
ACTION_BOOK_CALLBACK = "action_book_callback"
ACTION_CANCEL_CALLBACK = "action_cancel_callback"
ACTION_STOP_CALLBACK_FORM = "action_stop_callback_form"
FORM_CALLBACK = "callback_form"

# message metadata set by the web front
METADATA_MUNICIPALITY = "municipality"
METADATA_NOW = "now"

# after this many fallbacks in a row the conversation is escalated
MAX_FALLBACKS = 2
