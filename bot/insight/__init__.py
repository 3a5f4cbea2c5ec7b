"""Insight for editors and administrators: unanswered questions grouped into clusters of similar
questions, and analytics per period and municipality. Pure functions over a `Store`, used by the
console pages (`bot/web/insight.py`) and the CLI (`python -m bot.insight`)."""
