"""knowledge.passages: a guide split into its short answer, its sections and its keywords."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.guides import NATIONAL, Guide
from knowledge.passages import INTRO, KEYWORDS, Passage, split_guide


def make_guide(body: str, keywords: tuple[str, ...] = ("pas", "nyt pas")) -> Guide:
    return Guide(
        slug="pas-bestil", title="Hvordan bestiller jeg nyt pas?", category="pas",
        owner="borgerservice", keywords=keywords, url="https://www.borger.dk/",
        municipality=NATIONAL, updated=date(2026, 11, 20), body=body,
    )  # fmt: skip


def test_fixture_guide_is_split_into_intro_sections_and_keywords(fixture_guide_set):
    guide = fixture_guide_set.by_key()[("mitid-opret", NATIONAL)]
    passages = split_guide(guide)
    assert [p.section for p in passages] == [INTRO, "Sådan gør du", "Det skal du bruge", KEYWORDS]
    assert all(p.slug == "mitid-opret" and p.municipality == NATIONAL for p in passages)
    assert passages[0].text == guide.summary
    assert passages[1].text.startswith('1. Hent appen "MitID" på din telefon. 2. Scan')
    assert passages[-1].text == ", ".join(guide.keywords)
    assert all("\n" not in p.text and "  " not in p.text for p in passages)


def test_overlay_passages_carry_the_municipality(fixture_guide_set):
    passages = split_guide(fixture_guide_set.by_key()[("affald-storskrald", "0101")])
    assert {p.municipality for p in passages} == {"0101"}
    assert "faste dage" in passages[0].text


@pytest.mark.parametrize(
    ("body", "keywords", "sections"),
    [
        ("Kun et svar.", ("pas",), [INTRO, KEYWORDS]),
        ("Kun et svar.", (), [INTRO]),
        ("## Sådan gør du\nBestil tid.", (), ["Sådan gør du"]),
        ("Svar.\n\n## Tom sektion\n\n## Levering\nMed posten.", (), [INTRO, "Levering"]),
        ("Svar.\n\n### Underafsnit\nTekst.", (), [INTRO, "Underafsnit"]),
        ("Svar.\n\n# Overskrift 1\nTekst.", (), [INTRO]),  # only ## and deeper split
    ],
)
def test_sections(body, keywords, sections):
    assert [p.section for p in split_guide(make_guide(body, keywords))] == sections


def test_embedding_text_puts_the_title_with_every_passage():
    title = "Hvordan bestiller jeg nyt pas?"
    intro = Passage("pas-bestil", NATIONAL, INTRO, "Bestil tid i Borgerservice.")
    section = Passage("pas-bestil", NATIONAL, "Det skal du bruge", "Dit gamle pas.")
    assert intro.embedding_text(title) == f"{title}. Bestil tid i Borgerservice."
    assert section.embedding_text(title) == f"{title}. Det skal du bruge: Dit gamle pas."
