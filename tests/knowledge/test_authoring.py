"""Guide authoring: form ⇄ file text, validation messages, versions, restore, unpublish, and the
`python -m knowledge import | export` commands. A fake embedder stands in for the model."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge import cli
from knowledge.authoring import (
    PUBLISHED,
    UNPUBLISHED,
    GuideError,
    GuideForm,
    GuideStore,
    ValidationFailed,
    advice,
    check_form,
    file_sha,
    guide_key,
    parse_key,
    render_html,
)
from knowledge.guides import InvalidGuide, load_guides, parse_guide
from knowledge.index import current_version, load_index
from tests.knowledge.conftest import FIXTURE_GUIDES, REPO_ROOT, FakeEmbed

AUTHOR = "redaktoer"
GOOD = """---
title: Titel
slug: halv
category: c
owner: b
keywords: [a]
url: https://x.dk/
municipality: "*"
updated: 2026-11-20
---
Tekst
"""
NEW_GUIDE = GuideForm(
    title="Hvordan får jeg et lystfiskertegn?",
    slug="lystfiskertegn",
    category="fritid",
    owner="borgerservice",
    keywords="fisketegn, lystfisker, fiskekort",
    url="https://www.fisketegn.dk/",
    municipality="*",
    updated="2026-11-23",
    body="Du køber lystfiskertegnet på fisketegn.dk med MitID.\n\n## Sådan gør du\n1. Gå ind.",
)


class FakeEmbedder:
    model_name = "fake-model"
    fingerprint = "fake-fingerprint"

    def __init__(self, embed: FakeEmbed | None = None, fail: bool = False) -> None:
        self.embed = embed or FakeEmbed()
        self.fail = fail

    def embed_passages(self, texts: list[str]):  # type: ignore[no-untyped-def]
        if self.fail:
            raise RuntimeError("embedding failed")
        return self.embed(texts)


@pytest.fixture
def store(tmp_path: Path, guides_copy: Path) -> GuideStore:
    embedder = FakeEmbedder()
    s = GuideStore(guides_copy, tmp_path / "data", embedder=lambda: embedder)
    s._reindex()  # the index as `make index` leaves it
    return s


def indexed(store: GuideStore) -> set[str]:
    return {guide_key(g.slug, g.municipality) for g in load_index(store.index_dir).guides}


# --------------------------------------------------------------------------- form ⇄ text


GUIDE_FILES = sorted((REPO_ROOT / "knowledge" / "guides").glob("*.md")) + sorted(
    FIXTURE_GUIDES.rglob("*.md")
)


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_form_round_trip_is_exact_for_every_guide(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    form = GuideForm.from_guide(parse_guide(text, path))
    assert form.to_text() == text
    assert check_form(form) == []


def test_form_from_mapping_normalises_what_browsers_send() -> None:
    form = GuideForm.from_mapping(
        {
            "title": "  Nyt   pas ",
            "slug": " pas-ny ",
            "keywords": "pas,  nyt pas,\r\npasfoto, ",
            "body": "Første afsnit.  \r\n\r\n## Trin\r\n1. Gør det\r\n\r\n\r\n",
            "municipality": "",
        }
    )
    assert form.title == "Nyt pas"
    assert form.slug == "pas-ny"
    assert form.keyword_list == ["pas", "nyt pas", "pasfoto"]
    assert form.municipality == "*"
    assert form.body == "Første afsnit.\n\n## Trin\n1. Gør det"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"slug": "123"}, {"slug": "123"}),  # YAML would read an unquoted 123 as a number
        ({"slug": "true"}, {"slug": "true"}),
        ({"title": 'Han sagde "hej": ja'}, {"title": 'Han sagde "hej": ja'}),
        (
            {"keywords": "ja, no, [x], a: b, #tag"},
            {"keywords": ["ja", "no", "[x]", "a: b", "#tag"]},
        ),
        ({"owner": "null"}, {"owner": "null"}),
        ({"category": "a #b"}, {"category": "a #b"}),
        ({"municipality": "0101"}, {"municipality": "0101"}),
        ({"url": "https://x.dk/a?b=1&c=2#d"}, {"url": "https://x.dk/a?b=1&c=2#d"}),
    ],
)
def test_text_reads_back_as_the_same_fields(changes: dict, expected: dict) -> None:
    guide = parse_guide(replace(NEW_GUIDE, **changes).to_text())
    for name, value in expected.items():
        got = list(guide.keywords) if name == "keywords" else getattr(guide, name)
        assert got == value


def test_extra_front_matter_survives_an_edit() -> None:
    text = NEW_GUIDE.to_text().replace("updated:", "reviewer: Ida\ntags: [a, b]\nupdated:")
    form = GuideForm.from_guide(parse_guide(text))
    edited = replace(form, title="Ny titel")
    assert parse_guide(edited.to_text()).extra == {"reviewer": "Ida", "tags": ["a", "b"]}


def test_a_broken_file_still_fills_the_form() -> None:
    text = "---\ntitle: Halv\nslug: halv\nurl: ftp://x\n---\nTekst her.\n"
    form = GuideForm.from_text(text, Path("halv.md"))
    assert (form.title, form.slug, form.url, form.body) == ("Halv", "halv", "ftp://x", "Tekst her.")
    assert {p.field for p in check_form(form)} >= {"category", "owner", "url", "updated"}


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field", "danish"),
    [
        ({"title": ""}, "title", "Skriv en titel."),
        ({"title": "x" * 201}, "title", "højst være 200 tegn"),
        ({"slug": ""}, "slug", "Skriv en kort adresse"),
        ({"slug": "Pas Bestil"}, "slug", "små bogstaver"),
        ({"slug": "pas-æble"}, "slug", "ikke æ, ø, å"),
        ({"category": " "}, "category", "Skriv en kategori"),
        ({"owner": ""}, "owner", "ansvarlige afdeling"),
        ({"keywords": " , ,"}, "keywords", "mindst ét søgeord"),
        ({"url": ""}, "url", "Skriv linket"),
        ({"url": "www.borger.dk"}, "url", "skal begynde med https://"),
        ({"url": "https://borger.dk/a b"}, "url", "mellemrum"),
        ({"municipality": "01 01"}, "municipality", "kommunekode"),
        ({"updated": ""}, "updated", "Skriv datoen"),
        ({"updated": "23-11-2026"}, "updated", "ÅÅÅÅ-MM-DD"),
        ({"updated": "2026-13-01"}, "updated", "ÅÅÅÅ-MM-DD"),
        ({"body": "  \n"}, "body", "Skriv vejledningens tekst."),
        ({"body": "Hej <script>alert(1)</script>"}, "body", "HTML er ikke tilladt"),
        ({"body": 'Se <a href="x">her</a>'}, "body", "HTML er ikke tilladt"),
        ({"body": "Tekst <!-- skjult -->"}, "body", "HTML er ikke tilladt"),
    ],
)
def test_validation_messages_name_the_field_in_danish(changes: dict, field: str, danish: str):
    problems = check_form(replace(NEW_GUIDE, **changes))
    assert [p.field for p in problems] == [field]
    assert danish in problems[0].da
    assert problems[0].en  # the CLI's wording
    assert problems[0].label  # the form label it belongs to


def test_all_problems_are_reported_at_once() -> None:
    problems = check_form(GuideForm())
    assert [p.field for p in problems] == [
        "title", "slug", "category", "owner", "keywords", "url", "updated", "body",
    ]  # fmt: skip


def test_less_than_and_arrows_are_not_html() -> None:
    assert check_form(replace(NEW_GUIDE, body="Børn < 18 år og voksne > 65 år -> gratis.")) == []


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ("## Overskrift først\nTekst.", "Start teksten med et kort svar"),
        ("1. Trin\n2. Trin", "Start teksten med et kort svar"),
        ("Kort.", "Sigt efter 120–400 ord"),
    ],
)
def test_style_advice(body: str, hint: str) -> None:
    assert any(hint in h for h in advice(replace(NEW_GUIDE, body=body)))


# --------------------------------------------------------------------------- safe preview


@pytest.mark.parametrize(
    ("markdown", "present", "absent"),
    [
        ("Hej <script>alert(1)</script>", "&lt;script&gt;", "<script"),
        ("<div onclick=alert(1)>x</div>", "&lt;div", "<div"),
        ("[klik](javascript:alert(1))", "<a>klik</a>", "javascript:"),
        ("[klik](JaVaScRiPt:alert(1))", "<a>klik</a>", "alert"),
        ("[mail](mailto:a@b.dk)", 'href="mailto:a@b.dk"', "javascript"),
        ("[borger](https://www.borger.dk/)", 'href="https://www.borger.dk/"', "<script"),
        ("![x](https://evil/x.png)", "[billede: x]", "<img"),
        ('[a](https://x.dk/" onmouseover="x)', "&quot; onmouseover", 'onmouseover="'),
        ("## Sådan gør du\n1. Et\n2. To", "<h2>Sådan gør du</h2>", "<script"),
        ("[lokal](/borgerservice)", 'href="/borgerservice"', "evil"),
        ("[x](//evil.com/)", "<a>x</a>", "evil"),
        ("[x](/\\evil.com/)", "<a>x</a>", "evil"),  # browsers read /\ as //
        ("[x](</\\\\evil.com>)", "<a>x</a>", "evil"),
        ("[x](</\n/evil.com>)", "<a>x</a>", "evil"),  # and drop a line break
        ("[x](/\r/evil.com)", "<a>x</a>", "evil"),
    ],
)
def test_preview_never_lets_html_or_scripts_through(markdown: str, present: str, absent: str):
    html = render_html(markdown)
    assert present in html
    assert absent not in html


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("pas-bestil", ("pas-bestil", "*")),
        ("affald-storskrald@0101", ("affald-storskrald", "0101")),
    ],
)
def test_keys(key: str, parsed: tuple[str, str]) -> None:
    assert parse_key(key) == parsed
    assert guide_key(*parsed) == key


@pytest.mark.parametrize("key", ["../etc", "a/b", "Pas", "pas@", "pas@0 1", ""])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        parse_key(key)


# --------------------------------------------------------------------------- store


def test_publish_a_new_guide_writes_the_file_indexes_it_and_records_a_version(store: GuideStore):
    before = current_version(store.index_dir)
    change = store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=True, author_name="Ida Redaktør")
    path = store.guides_dir / "lystfiskertegn.md"
    assert path.read_text(encoding="utf-8") == NEW_GUIDE.to_text()
    assert change.changed and change.new and change.build is not None
    assert change.build.embedded_guides == 1  # incremental: only the new guide is embedded
    assert current_version(store.index_dir) != before
    assert "lystfiskertegn" in indexed(store)
    [version] = store.history("lystfiskertegn")
    assert (version.number, version.author, version.author_name, version.action) == (
        1, AUTHOR, "Ida Redaktør", "created",
    )  # fmt: skip
    assert store.version_text("lystfiskertegn", 1) == NEW_GUIDE.to_text()


def test_a_new_slug_must_be_unique(store: GuideStore) -> None:
    with pytest.raises(ValidationFailed) as err:
        store.save(replace(NEW_GUIDE, slug="pas-bestil"), AUTHOR, state=PUBLISHED, new=True)
    assert err.value.problems[0].field == "slug"
    assert "findes allerede" in err.value.problems[0].da
    store.set_state("mitid-spaer", UNPUBLISHED, AUTHOR)
    with pytest.raises(ValidationFailed, match="already exists"):
        store.save(replace(NEW_GUIDE, slug="mitid-spaer"), AUTHOR, state=PUBLISHED, new=True)


def test_editing_a_missing_guide_is_refused(store: GuideStore) -> None:
    with pytest.raises(GuideError):
        store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=False)


def test_a_save_over_someone_elses_newer_save_is_refused(store: GuideStore) -> None:
    entry = store.get("pas-bestil")
    assert entry is not None
    opened = file_sha(entry.path)
    store.save(replace(entry.form, title="Først"), "a", state=PUBLISHED, new=False, base_sha=opened)
    with pytest.raises(GuideError) as err:
        store.save(replace(entry.form, title="Anden"), "b", state=PUBLISHED, new=False,
                   base_sha=opened)  # fmt: skip
    assert "ændret af en anden" in err.value.da
    assert parse_guide(entry.path.read_text(encoding="utf-8")).title == "Først"


def test_an_unchanged_save_writes_no_version(store: GuideStore) -> None:
    store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=True)
    change = store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=False)
    assert not change.changed and change.build is None
    assert len(store.history("lystfiskertegn")) == 1


def test_first_console_edit_of_a_starter_guide_keeps_the_file_text_restorable(store: GuideStore):
    original = (store.guides_dir / "pas-bestil.md").read_text(encoding="utf-8")
    entry = store.get("pas-bestil")
    assert entry is not None
    store.save(replace(entry.form, title="Nyt pas til voksne"), AUTHOR, state=PUBLISHED, new=False)
    external, edited = sorted(store.history("pas-bestil"), key=lambda v: v.number)
    assert (external.action, external.author) == ("external", "")
    assert store.version_text("pas-bestil", external.number) == original
    assert edited.action == "published"


def test_unpublish_moves_the_file_out_of_the_index_and_publish_brings_it_back(store: GuideStore):
    change = store.set_state("mitid-spaer", UNPUBLISHED, AUTHOR)
    assert change.build is not None
    assert not (store.guides_dir / "mitid-spaer.md").exists()
    assert (store.unpublished_dir / "mitid-spaer.md").exists()
    assert store.unpublished_dir == store.guides_dir.parent / "guides-unpublished"
    assert "mitid-spaer" not in load_guides(store.guides_dir).slugs()
    assert "mitid-spaer" not in indexed(store)
    entry = store.get("mitid-spaer")
    assert entry is not None and entry.state == UNPUBLISHED
    assert store.history("mitid-spaer")[0].action_da == "afpubliceret"

    store.set_state("mitid-spaer", PUBLISHED, AUTHOR)
    assert (store.guides_dir / "mitid-spaer.md").exists()
    assert not store.unpublished_dir.joinpath("mitid-spaer.md").exists()
    assert "mitid-spaer" in indexed(store)


def test_a_draft_is_not_indexed_until_published(store: GuideStore) -> None:
    before = current_version(store.index_dir)
    change = store.save(NEW_GUIDE, AUTHOR, state=UNPUBLISHED, new=True)
    assert change.build is None and current_version(store.index_dir) == before
    assert (store.unpublished_dir / "lystfiskertegn.md").exists()
    store.set_state("lystfiskertegn", PUBLISHED, AUTHOR)
    assert "lystfiskertegn" in indexed(store)


def test_municipal_guides_get_their_own_folder_and_key(store: GuideStore) -> None:
    form = replace(NEW_GUIDE, municipality="0101")
    store.save(form, AUTHOR, state=PUBLISHED, new=True)
    assert (store.guides_dir / "kommuner" / "0101" / "lystfiskertegn.md").exists()
    assert "lystfiskertegn@0101" in indexed(store)
    store.set_state("lystfiskertegn@0101", UNPUBLISHED, AUTHOR)
    assert (store.unpublished_dir / "kommuner" / "0101" / "lystfiskertegn.md").exists()
    assert not (store.guides_dir / "kommuner").exists()  # empty folders tidied away
    # the fixture overlay keeps its own folder
    entry = store.get("affald-storskrald@0101")
    assert entry is not None and entry.rel == Path("overlays/0101/affald-storskrald.md")


@pytest.mark.parametrize("state", [PUBLISHED, UNPUBLISHED])
def test_restore_writes_the_old_text_as_a_new_version(store: GuideStore, state: str) -> None:
    store.save(NEW_GUIDE, AUTHOR, state=state, new=True)  # type: ignore[arg-type]
    v2 = replace(NEW_GUIDE, body="Anden tekst om lystfiskertegn.", updated="2026-11-24")
    store.save(v2, "anden", state=state, new=False)  # type: ignore[arg-type]
    assert store.history("lystfiskertegn")[0].number == 2

    change = store.restore("lystfiskertegn", 1, "tredje", "Tre")
    root = store.guides_dir if state == PUBLISHED else store.unpublished_dir
    assert (root / "lystfiskertegn.md").read_text(encoding="utf-8") == NEW_GUIDE.to_text()
    latest = store.history("lystfiskertegn")[0]
    assert (latest.number, latest.action, latest.restored_from, latest.author) == (
        3, "restored", 1, "tredje",
    )  # fmt: skip
    assert latest.action_da == "gendannet fra version 1"
    assert latest.state == state
    assert store.version_text("lystfiskertegn", 3) == store.version_text("lystfiskertegn", 1)
    if state == PUBLISHED:
        assert change.build is not None
        record = next(g for g in load_index(store.index_dir).guides if g.slug == "lystfiskertegn")
        assert record.body == parse_guide(NEW_GUIDE.to_text()).body
    else:
        assert change.build is None and "lystfiskertegn" not in indexed(store)


def test_restore_of_an_unknown_version_is_refused(store: GuideStore) -> None:
    store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=True)
    with pytest.raises(GuideError):
        store.restore("lystfiskertegn", 7, AUTHOR)


def test_restore_refuses_a_version_that_a_save_would_refuse(store: GuideStore) -> None:
    """A version file edited outside the console (here: raw HTML) is not restored live."""
    store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=True)
    folder = store.history_dir / "lystfiskertegn"
    path = folder / "000001.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "Du køber", '<img src=x onerror="alert(1)"> Du køber'), encoding="utf-8")  # fmt: skip
    live = (store.guides_dir / "lystfiskertegn.md").read_text(encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        store.restore("lystfiskertegn", 1, AUTHOR)
    assert [p.da for p in err.value.problems] == [
        "Tekst: HTML er ikke tilladt i teksten. Brug Markdown: ## overskrift, 1. trin, - punkt."
    ]
    assert (store.guides_dir / "lystfiskertegn.md").read_text(encoding="utf-8") == live
    assert len(store.history("lystfiskertegn")) == 1
    # a version the loader itself rejects is named in Danish as well
    path.write_text("---\ntitle: Uden resten\n---\nTekst\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        store.restore("lystfiskertegn", 1, AUTHOR)
    assert [p.da for p in err.value.problems] == [
        "Kort adresse (slug): Feltet mangler eller er tomt."
    ]


def test_a_failed_index_build_rolls_the_files_back(tmp_path: Path, guides_copy: Path) -> None:
    store = GuideStore(guides_copy, tmp_path / "data", embedder=lambda: FakeEmbedder(fail=True))
    original = (guides_copy / "pas-bestil.md").read_text(encoding="utf-8")
    entry = store.get("pas-bestil")
    assert entry is not None
    with pytest.raises(RuntimeError, match="embedding failed"):
        store.save(replace(entry.form, title="Ændret"), AUTHOR, state=PUBLISHED, new=False)
    assert (guides_copy / "pas-bestil.md").read_text(encoding="utf-8") == original
    with pytest.raises(RuntimeError):
        store.save(NEW_GUIDE, AUTHOR, state=PUBLISHED, new=True)
    assert not (guides_copy / "lystfiskertegn.md").exists()
    assert store.history("lystfiskertegn") == []
    with pytest.raises(RuntimeError):
        store.set_state("pas-bestil", UNPUBLISHED, AUTHOR)
    assert (guides_copy / "pas-bestil.md").exists()
    assert not (store.unpublished_dir / "pas-bestil.md").exists()


def test_concurrent_publishes_are_serialised(store: GuideStore) -> None:
    errors: list[BaseException] = []

    def publish(n: int) -> None:
        form = replace(NEW_GUIDE, slug=f"emne-{n}", title=f"Emne nummer {n}")
        try:
            # a store per thread, as each web worker process has its own
            own = GuideStore(store.guides_dir, store.data_dir, embedder=lambda: FakeEmbedder())
            own.save(form, AUTHOR, state=PUBLISHED, new=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {f"emne-{n}" for n in range(6)} <= indexed(store)


def test_a_held_lock_times_out_with_a_danish_message(store: GuideStore) -> None:
    other = GuideStore(store.guides_dir, store.data_dir, lock_timeout=0.2)
    with store.lock(), pytest.raises(GuideError) as err:
        other.save(NEW_GUIDE, AUTHOR, state=UNPUBLISHED, new=True)
    assert "i gang" in err.value.da


def test_entries_list_both_states_and_invalid_files(store: GuideStore) -> None:
    (store.guides_dir / "halv.md").write_text("---\ntitle: Halv\n---\nTekst\n", encoding="utf-8")
    store.save(NEW_GUIDE, AUTHOR, state=UNPUBLISHED, new=True)
    entries = {e.key: e for e in store.entries()}
    assert entries["lystfiskertegn"].state == UNPUBLISHED
    assert entries["pas-bestil"].state == PUBLISHED and entries["pas-bestil"].error is None
    assert entries["halv"].guide is None and entries["halv"].error
    assert "affald-storskrald@0101" in entries


ENGLISH = re.compile(r"\b(the|must|missing|is not|not valid|front matter|empty|does not)\b", re.I)


@pytest.mark.parametrize(
    ("text", "field", "danish"),
    [
        ("Ingen felter\n", "front matter", "Filen skal begynde med felterne"),
        ("---\ntitle: [x\n---\nTekst\n", "front matter", "kan ikke læses"),
        ("---\n- liste\n---\nTekst\n", "front matter", "navn: værdi"),
        (GOOD.replace("title: Titel", "title:"), "title", "Feltet mangler eller er tomt."),
        (GOOD.replace("owner: b", "owner: 3"), "owner", "Feltet skal være tekst."),
        (GOOD.replace("slug: halv", "slug: Halv"), "slug", "Brug kun små bogstaver"),
        (GOOD.replace("url: https://x.dk/", "url: x.dk"), "url", "Linket skal begynde"),
        (
            GOOD.replace('municipality: "*"', "municipality: 0101"),
            "municipality",
            'Skriv kommunekoden i anførselstegn, fx "0101".',
        ),
        (
            GOOD.replace('municipality: "*"', 'municipality: "01 01"'),
            "municipality",
            "Skriv * for alle kommuner",
        ),
        (GOOD.replace("updated: 2026-11-20", "updated: i går"), "updated", "ÅÅÅÅ-MM-DD"),
        (GOOD.replace("keywords: [a]", "keywords: {a: 1}"), "keywords", "adskilt med komma"),
        (GOOD.replace("\nTekst\n", "\n"), "body", "Skriv vejledningens tekst."),
    ],
)
def test_every_loader_error_has_a_danish_wording(text: str, field: str, danish: str) -> None:
    with pytest.raises(InvalidGuide) as err:
        parse_guide(text)
    assert err.value.field == field
    assert danish in err.value.da
    assert not ENGLISH.search(err.value.da), err.value.da
    assert str(err.value)  # the English message stays for the CLI and logs


def test_an_invalid_file_is_explained_in_danish(store: GuideStore) -> None:
    text = GOOD.replace("slug: halv", "slug: hel")  # the file is called halv.md
    (store.guides_dir / "halv.md").write_text(text, encoding="utf-8")
    (store.guides_dir / "binaer.md").write_bytes(b"\xff\xfe---")
    entries = {e.key: e for e in store.entries()}
    assert entries["halv"].error == "slug: 'hel' does not match the file name 'halv.md'"
    assert entries["halv"].error_da == (
        "Kort adresse (slug): Den korte adresse «hel» passer ikke til filnavnet «halv.md»."
    )
    assert (
        entries["binaer"].error_da
        == "Fil: Filen kan ikke læses. Den skal være gemt som UTF-8-tekst."
    )
    with pytest.raises(ValidationFailed) as err:
        store.set_state("halv", UNPUBLISHED, AUTHOR)
        store.set_state("halv", PUBLISHED, AUTHOR)
    assert [p.da for p in err.value.problems] == [
        "Filen er ugyldig – Kort adresse (slug): Den korte adresse «hel» passer ikke til "
        "filnavnet «halv.md»."
    ]


# --------------------------------------------------------------------------- import / export CLI


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, guides_copy: Path) -> GuideStore:
    monkeypatch.setenv("BORGERBOT_GUIDES_DIR", str(guides_copy))
    monkeypatch.setenv("BORGERBOT_DATA_DIR", str(tmp_path / "data"))
    embedder = FakeEmbedder()
    monkeypatch.setattr(cli, "_embedder", lambda settings: embedder)
    return GuideStore(guides_copy, tmp_path / "data")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_cli_import_adds_and_updates_guides_and_builds_the_index(cli_env, tmp_path, capsys):
    incoming = tmp_path / "incoming"
    write(incoming, "lystfiskertegn.md", NEW_GUIDE.to_text().replace("\n", "\r\n"))
    pas = (FIXTURE_GUIDES / "pas-bestil.md").read_text(encoding="utf-8")
    write(incoming, "pas-bestil.md", pas.replace("Nyt pas bestiller", "Et nyt pas bestiller"))
    write(incoming, "mitid-opret.md", (FIXTURE_GUIDES / "mitid-opret.md").read_text())
    write(incoming, "README.md", "not a guide")
    assert cli.main(["import", str(incoming), "--author", "cli:test"]) == 0
    out = capsys.readouterr().out
    assert "imported lystfiskertegn: new, published" in out
    assert "imported pas-bestil: updated, published" in out
    assert "imported mitid-opret: unchanged, published" in out
    assert "index " in out and "1 guides" not in out
    text = (cli_env.guides_dir / "lystfiskertegn.md").read_text(encoding="utf-8")
    assert text == NEW_GUIDE.to_text()  # CRLF became LF
    assert "lystfiskertegn" in indexed(cli_env)
    assert cli_env.history("lystfiskertegn")[0].author == "cli:test"
    assert cli_env.history("pas-bestil")[0].action == "imported"


def test_cli_import_is_all_or_nothing(cli_env: GuideStore, tmp_path: Path, capsys) -> None:
    incoming = tmp_path / "incoming"
    write(incoming, "lystfiskertegn.md", NEW_GUIDE.to_text())
    write(incoming, "broken.md", NEW_GUIDE.to_text().replace("https://www.fisketegn.dk/", "nej"))
    write(incoming, "script.md", replace(NEW_GUIDE, slug="script", body="<script>x</script>")
          .to_text())  # fmt: skip
    assert cli.main(["import", str(incoming)]) == 1
    err = capsys.readouterr().err
    assert "broken.md" in err and "url" in err and "is not an http(s) address" in err
    assert "script.md" in err and "raw HTML" in err
    assert "nothing imported" in err
    assert not (cli_env.guides_dir / "lystfiskertegn.md").exists()


def test_cli_import_dry_run_and_unpublished(cli_env: GuideStore, tmp_path: Path, capsys) -> None:
    source = write(tmp_path / "one", "x.md", NEW_GUIDE.to_text())  # file name need not be the slug
    assert cli.main(["import", str(source), "--dry-run"]) == 0
    assert "would import lystfiskertegn: new" in capsys.readouterr().out
    assert not (cli_env.guides_dir / "lystfiskertegn.md").exists()
    assert cli.main(["import", str(source), "--unpublished"]) == 0
    assert (cli_env.unpublished_dir / "lystfiskertegn.md").exists()
    assert not (cli_env.guides_dir / "lystfiskertegn.md").exists()


def test_cli_import_reports_missing_paths(cli_env: GuideStore, tmp_path: Path, capsys) -> None:
    assert cli.main(["import", str(tmp_path / "nowhere")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_export_then_import_round_trips(cli_env: GuideStore, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "export"
    assert cli.main(["export", str(out_dir)]) == 0
    assert "exported 6 published guide(s)" in capsys.readouterr().out
    for source in FIXTURE_GUIDES.rglob("*.md"):
        rel = source.relative_to(FIXTURE_GUIDES)
        assert (out_dir / rel).read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    assert cli.main(["import", str(out_dir), "--no-index"]) == 0
    assert "0 changed" in capsys.readouterr().out


def test_cli_export_skips_invalid_guides_and_refuses_the_guides_folder(cli_env, tmp_path, capsys):
    write(cli_env.guides_dir, "halv.md", "---\ntitle: Halv\n---\nTekst\n")
    assert cli.main(["export", str(tmp_path / "export")]) == 1
    assert "skipped invalid guide" in capsys.readouterr().err
    assert cli.main(["export", str(cli_env.guides_dir / "sub")]) == 2
    assert "inside the guides folder" in capsys.readouterr().err
