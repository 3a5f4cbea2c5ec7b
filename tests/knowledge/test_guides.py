"""knowledge.guides: front-matter validation, loading a folder, overlays, content hashes."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from knowledge.guides import (
    NATIONAL,
    REQUIRED_FIELDS,
    GuideError,
    InvalidGuide,
    load_guides,
    parse_guide,
    visible_guides,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_GUIDES = REPO_ROOT / "knowledge" / "guides"
# CI and developers have shared/ beside the repository (see DEVELOPERS.md / the Makefile).
CATALOGUE = REPO_ROOT.parent / "shared" / "guide-catalogue.md"
FIXTURE_SLUGS = {
    "mitid-opret",
    "mitid-spaer",
    "pas-bestil",
    "affald-storskrald",
    "borgerservice-aabningstider",
}

# Front-matter values exactly as written in YAML, so a test can drop or replace one.
FIELDS = {
    "title": '"Hvordan får jeg et sundhedskort?"',
    "slug": "sundhedskort-nyt",
    "category": "sundhed",
    "owner": "borgerservice",
    "keywords": "[sundhedskort, gult kort, nyt sundhedskort]",
    "url": "https://www.borger.dk/sundhedskort",
    "municipality": '"*"',
    "updated": "2026-11-20",
}
BODY = (
    "Har du mistet dit gule sundhedskort, bestiller du et nyt på borger.dk.\n"
    "Det koster et gebyr.\n\n"
    "## Sådan gør du\n1. Log på borger.dk med MitID.\n2. Bestil et nyt kort.\n"
)


def guide_text(body: str = BODY, drop: str | None = None, **overrides: str) -> str:
    fields = {**FIELDS, **overrides}
    lines = [f"{name}: {value}" for name, value in fields.items() if name != drop]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


# --- parse_guide ----------------------------------------------------------------------------


def test_parse_valid_guide():
    guide = parse_guide(guide_text(extra_field="hej"), Path("sundhedskort-nyt.md"))
    assert guide.slug == "sundhedskort-nyt"
    assert guide.title == "Hvordan får jeg et sundhedskort?"
    assert guide.keywords == ("sundhedskort", "gult kort", "nyt sundhedskort")
    assert guide.municipality == NATIONAL
    assert guide.updated == date(2026, 11, 20)
    assert guide.key == ("sundhedskort-nyt", NATIONAL)
    assert guide.extra == {"extra_field": "hej"}
    assert guide.summary == (
        "Har du mistet dit gule sundhedskort, bestiller du et nyt på borger.dk. "
        "Det koster et gebyr."
    )
    assert guide.body.startswith("Har du mistet")


def test_parse_accepts_bom_string_date_and_comma_separated_keywords():
    text = "\ufeff" + guide_text(updated='"2026-01-02"', keywords='"sundhedskort, gult kort , "')
    guide = parse_guide(text)
    assert guide.updated == date(2026, 1, 2)
    assert guide.keywords == ("sundhedskort", "gult kort")


@pytest.mark.parametrize("name", REQUIRED_FIELDS)
def test_missing_required_field_is_named(name):
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(guide_text(drop=name))
    assert exc.value.field == name


@pytest.mark.parametrize("name", REQUIRED_FIELDS)
def test_empty_required_field_is_named(name):
    empty = "[]" if name == "keywords" else '""'
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(guide_text(**{name: empty}))
    assert exc.value.field == name


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("slug", "Sundhedskort_Nyt", "lowercase"),
        ("slug", "sundhedskort--nyt", "lowercase"),
        ("slug", "-sundhedskort", "lowercase"),
        ("slug", '"sundhedskort nyt"', "lowercase"),
        ("slug", "123", "text"),
        ("title", "42", "text"),
        ("url", "www.borger.dk", "http"),
        ("url", "ftp://borger.dk/", "http"),
        ("url", '"https://borger dk"', "http"),
        ("updated", '"2026-02-30"', "ISO date"),
        ("updated", '"i går"', "ISO date"),
        ("updated", "2026", "ISO date"),
        ("municipality", '"København"', "municipality code"),
        ("municipality", '"01 01"', "municipality code"),
        ("keywords", "[1, 2]", "list"),
        ("keywords", "{a: b}", "list"),
    ],
)
def test_bad_field_value_is_named(name, value, message):
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(guide_text(**{name: value}))
    assert exc.value.field == name
    assert message in str(exc.value)


def test_slug_must_match_file_name():
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(guide_text(), Path("guides/sundhedskort.md"))
    assert exc.value.field == "slug"
    assert "sundhedskort.md" in str(exc.value)


@pytest.mark.parametrize("body", ["", "\n", "   \n\n  \n"])
def test_empty_body(body):
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(guide_text(body=body))
    assert exc.value.field == "body"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Bare tekst uden front matter.\n", id="no-front-matter"),
        pytest.param("---\ntitle: [uafsluttet\nslug: x\n---\nTekst.\n", id="broken-yaml"),
        pytest.param("---\n- en\n- liste\n---\nTekst.\n", id="list-not-mapping"),
        pytest.param("---\nbare en sætning\n---\nTekst.\n", id="scalar-not-mapping"),
        pytest.param(guide_text(updated="2026-13-01"), id="impossible-unquoted-date"),
    ],
)
def test_front_matter_that_is_not_a_yaml_mapping(text):
    with pytest.raises(InvalidGuide) as exc:
        parse_guide(text)
    assert exc.value.field == "front matter"


def test_unquoted_municipality_code_is_not_silently_changed():
    try:
        guide = parse_guide(guide_text(municipality="0101"))
    except InvalidGuide as exc:  # rejecting it ("quote the code") would be fine too
        assert exc.field == "municipality"
    else:
        assert guide.municipality == "0101"


# --- load_guides ----------------------------------------------------------------------------


def test_fixture_guides_load(fixture_guides_dir):
    guide_set = load_guides(fixture_guides_dir)
    assert guide_set.errors == []
    assert guide_set.slugs() == FIXTURE_SLUGS
    assert len(guide_set.guides) == len(FIXTURE_SLUGS) + 1  # plus the "0101" overlay
    overlay = guide_set.by_key()[("affald-storskrald", "0101")]
    assert overlay.path == fixture_guides_dir / "overlays" / "0101" / "affald-storskrald.md"


BAD_FILES = [
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", drop="url"), "url",
                 id="missing-url"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", title='""'), "title",
                 id="empty-title"),
    pytest.param("Mitid-Kodeviser.md", guide_text(slug="Mitid-Kodeviser"), "slug",
                 id="bad-slug"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kode"), "slug",
                 id="slug-not-file-name"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", url="mitid.dk"), "url",
                 id="bad-url"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", updated='"20-11-2026"'),
                 "updated", id="bad-date"),
    pytest.param("mitid-kodeviser.md",
                 guide_text(slug="mitid-kodeviser", municipality='"Kbh. K"'), "municipality",
                 id="bad-municipality"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", body=""), "body",
                 id="empty-body"),
    pytest.param("mitid-kodeviser.md", "---\ntitle: [x\n---\nTekst\n", "front matter",
                 id="not-yaml"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser", updated="2026-13-01"),
                 "front matter", id="impossible-unquoted-date"),
    pytest.param("mitid-kodeviser.md", guide_text(slug="mitid-kodeviser").encode("latin-1"),
                 "file", id="not-utf8"),
    pytest.param("zz-copy/pas-bestil.md", guide_text(slug="pas-bestil"), "slug",
                 id="duplicate-slug"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "field"), BAD_FILES)
def test_bad_guide_is_reported_and_the_others_still_load(guides_copy, name, content, field):
    bad = guides_copy / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")

    guide_set = load_guides(guides_copy)

    assert len(guide_set.errors) == 1
    error = guide_set.errors[0]
    assert isinstance(error, GuideError)
    assert error.path == bad
    assert error.field == field
    assert str(bad) in str(error) and field in str(error)
    assert guide_set.slugs() == FIXTURE_SLUGS
    assert len(guide_set.guides) == len(FIXTURE_SLUGS) + 1
    # The guide that was loaded first keeps its place; the bad one contributed nothing.
    assert all(g.path != bad for g in guide_set.guides)


def test_duplicate_error_names_the_first_file(guides_copy):
    copy = guides_copy / "zz-copy" / "pas-bestil.md"
    copy.parent.mkdir()
    copy.write_text(guide_text(slug="pas-bestil", url="https://example.org/"), encoding="utf-8")
    guide_set = load_guides(guides_copy)
    assert [e.path for e in guide_set.errors] == [copy]
    assert str(guides_copy / "pas-bestil.md") in guide_set.errors[0].message
    assert guide_set.by_key()[("pas-bestil", NATIONAL)].url == "https://www.borger.dk/pas"


def test_same_slug_for_another_municipality_is_not_a_duplicate(guides_copy):
    other = guides_copy / "overlays" / "0202" / "affald-storskrald.md"
    other.parent.mkdir()
    other.write_text(
        guide_text(slug="affald-storskrald", municipality='"0202"', url="https://aarhus.dk/"),
        encoding="utf-8",
    )
    guide_set = load_guides(guides_copy)
    assert guide_set.errors == []
    municipalities = {g.municipality for g in guide_set.guides if g.slug == "affald-storskrald"}
    assert municipalities == {NATIONAL, "0101", "0202"}


def test_readme_is_not_a_guide(guides_copy):
    (guides_copy / "README.md").write_text("# Sådan skriver du en guide\n", encoding="utf-8")
    guide_set = load_guides(guides_copy)
    assert guide_set.errors == []
    assert guide_set.slugs() == FIXTURE_SLUGS


def test_empty_folder_loads_nothing(tmp_path):
    guide_set = load_guides(tmp_path)
    assert guide_set.guides == [] and guide_set.errors == []


# --- overlays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("municipality", "url"),
    [
        (None, "https://www.borger.dk/storskrald"),
        (NATIONAL, "https://www.borger.dk/storskrald"),
        ("0202", "https://www.borger.dk/storskrald"),
        ("0101", "https://www.kk.dk/storskrald"),
    ],
)
def test_visible_guides_apply_the_municipality_overlay(fixture_guide_set, municipality, url):
    visible = visible_guides(fixture_guide_set.guides, municipality)
    by_slug = {g.slug: g for g in visible}
    assert len(visible) == len(by_slug) == len(FIXTURE_SLUGS)
    assert by_slug["affald-storskrald"].url == url
    assert by_slug["pas-bestil"].municipality == NATIONAL


def test_overlay_can_add_a_guide_only_that_municipality_sees(fixture_guide_set):
    local = parse_guide(guide_text(slug="lokal-ordning", municipality='"0101"'))
    guides = [*fixture_guide_set.guides, local]
    assert "lokal-ordning" in {g.slug for g in visible_guides(guides, "0101")}
    assert "lokal-ordning" not in {g.slug for g in visible_guides(guides, None)}


# --- content hash ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("title", "Ny titel"),
        ("body", BODY + "\nEn ekstra linje."),
        ("url", "https://example.org/"),
        ("keywords", ("sundhedskort",)),
        ("municipality", "0101"),
        ("owner", "sundhed"),
        ("category", "andet"),
    ],
)
def test_content_hash_changes_with_indexed_content(name, value):
    guide = parse_guide(guide_text())
    assert guide.content_hash() == parse_guide(guide_text()).content_hash()
    assert dataclasses.replace(guide, **{name: value}).content_hash() != guide.content_hash()


# --- the real catalogue ---------------------------------------------------------------------


def catalogue_slugs() -> list[str]:
    table = CATALOGUE.read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*([a-z0-9][a-z0-9-]*)\s*\|", table, re.M)
    return [slug for slug in rows if slug != "slug"]


@pytest.mark.skipif(not CATALOGUE.exists(), reason=f"{CATALOGUE} not present")
def test_all_catalogue_guides_load_without_errors():
    slugs = catalogue_slugs()
    assert len(slugs) == 45
    guide_set = load_guides(REAL_GUIDES)
    assert guide_set.errors == [], "\n".join(map(str, guide_set.errors))
    national = {g.slug for g in guide_set.guides if g.municipality == NATIONAL}
    assert set(slugs) <= national
    for slug in slugs:
        assert (REAL_GUIDES / f"{slug}.md").is_file()
