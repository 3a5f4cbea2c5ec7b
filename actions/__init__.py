"""Thin rasa-sdk actions over the `knowledge` library and the conversation store in `bot`."""

import os

if os.environ.get("BORGERBOT_WARM_UP") == "1":  # set by `python -m bot.serve actions`
    from actions.services import warm_up

    warm_up()
