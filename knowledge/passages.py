"""Split a guide into passages for the dense index: its short answer, and each section."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.guides import Guide

HEADING = re.compile(r"^##+\s+(.*)$", re.MULTILINE)
INTRO = "Kort svar"
KEYWORDS = "Søgeord"


@dataclass(frozen=True)
class Passage:
    slug: str
    municipality: str
    section: str
    text: str  # what is shown ("which passage matched")

    def embedding_text(self, title: str) -> str:
        # The title goes with every passage: a section such as "Det skal du bruge" means nothing
        # without knowing which guide it belongs to.
        return (
            f"{title}. {self.section}: {self.text}"
            if self.section != INTRO
            else (f"{title}. {self.text}")
        )


def split_guide(guide: Guide) -> list[Passage]:
    body = guide.body.strip()
    parts = HEADING.split(body)
    # parts = [intro, heading1, text1, heading2, text2, ...]
    passages = []
    intro = " ".join(parts[0].split())
    if intro:
        passages.append(Passage(guide.slug, guide.municipality, INTRO, intro))
    for heading, text in zip(parts[1::2], parts[2::2], strict=True):
        flat = " ".join(text.split())
        if flat:
            passages.append(Passage(guide.slug, guide.municipality, heading.strip(), flat))
    if guide.keywords:
        passages.append(
            Passage(guide.slug, guide.municipality, KEYWORDS, ", ".join(guide.keywords))
        )
    return passages
