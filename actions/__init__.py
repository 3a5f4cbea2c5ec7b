"""Thin rasa-sdk actions over the `knowledge` library and the conversation store in `bot`."""
