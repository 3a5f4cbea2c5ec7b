"""Guides, the vector + lexical index over them, and the answer/clarify/fallback decision.

A pure library: it knows nothing of Rasa or Flask. Its CLI is ``python -m knowledge``.
"""
