"""The Rasa assistant (config, domain, data), the Flask web front and the conversation store."""
