"""Editor console over the Flask test client: roles, CSRF, filters, Danish validation with linked
errors, publish → index, unpublish, versions and restore, preview safety, "Prøv et spørgsmål".

The fast tests search with a hashed stand-in embedder; the `slow` ones load the real e5 model once
per session (tests/conftest.py) and check that a published guide answers a question it could not
before, through a KnowledgeBase that was loaded before the publish (as the action server's is)."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from knowledge.authoring import GuideForm, GuideStore, file_sha
from knowledge.guides import load_guides
from knowledge.index import build_index, load_index
from knowledge.search import KnowledgeBase
from knowledge.settings import KnowledgeSettings
from tests.knowledge.conftest import FIXTURE_GUIDES, FakeEmbed

BASE = "/konsol/vejledninger"
NEW = {
    "title": "Hvordan får jeg et lystfiskertegn?",
    "slug": "lystfiskertegn",
    "category": "fritid",
    "owner": "borgerservice",
    "keywords": "lystfiskertegn, fisketegn, fiskekort, lystfiskeri, fiske, fisketegn pris",
    "url": "https://fisketegn.dk/",
    "municipality": "*",
    "updated": "2026-11-23",
    "body": (
        "Du køber lystfiskertegnet (fisketegn) digitalt på fisketegn.dk. Der kan du også læse,"
        " hvem der skal have et, og hvad det koster. Du betaler med kort.\r\n\r\n## Sådan gør"
        " du\r\n1. Gå ind på fisketegn.dk.\r\n2. Vælg, hvor længe tegnet skal gælde.\r\n"
        "3. Betal med kort."
    ),
}


class HashEmbedder:
    """Deterministic vectors for passages and questions; enough for everything but relevance."""

    model_name = "hash-model"
    fingerprint = "hash-fingerprint"
    dimension = FakeEmbed.dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.vstack([FakeEmbed.vector(t) for t in texts]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


@dataclass
class Editor:
    app: Any
    client: Any
    csrf: str
    guides_dir: Path
    data_dir: Path
    kb: KnowledgeBase

    @property
    def store(self) -> GuideStore:
        return GuideStore(self.guides_dir, self.data_dir)

    def indexed(self) -> set[str]:
        return {g.slug for g in load_index(self.data_dir / "index").guides}

    def post(self, path: str, data: dict[str, str], **kw: Any) -> Any:
        return self.client.post(BASE + path, data={**data, "csrf_token": self.csrf}, **kw)


def knowledge_app(
    app: Any, tmp_path: Path, embedder: Any, source: KnowledgeSettings | None = None
) -> tuple[Path, Path, KnowledgeBase]:
    """Point the app at a copy of the fixture guides with a freshly built index, or at a copy of
    the `source` guides and their built index."""
    guides_dir, data_dir = tmp_path / "content" / "guides", tmp_path / "data"
    if source is None:
        shutil.copytree(FIXTURE_GUIDES, guides_dir)
    else:
        shutil.copytree(source.guides_dir, guides_dir)
        shutil.copytree(source.index_dir, data_dir / "index", symlinks=True)
    build_index(
        load_guides(guides_dir).guides, data_dir / "index", embedder.embed_passages,
        model=embedder.model_name, fingerprint=embedder.fingerprint,
    )  # fmt: skip
    knowledge = KnowledgeSettings(data_dir=data_dir, guides_dir=guides_dir, embedding_model="x")
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], knowledge=knowledge)
    kb = KnowledgeBase(data_dir / "index", embedder)
    app.extensions["borgerbot.knowledge"] = kb
    return guides_dir, data_dir, kb


@pytest.fixture
def editor(app: Any, client: Any, login: Callable[..., str], tmp_path: Path) -> Editor:
    guides_dir, data_dir, kb = knowledge_app(app, tmp_path, HashEmbedder())
    csrf = login(client, "editor", "eva")
    return Editor(app, client, csrf, guides_dir, data_dir, kb)


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


# --------------------------------------------------------------------------- access


ROUTES = [
    ("GET", "/"),
    ("GET", "/ny"),
    ("GET", "/pas-bestil/rediger"),
    ("GET", "/pas-bestil/historik"),
    ("GET", "/proev?spoergsmaal=pas"),
    ("POST", "/ny"),
    ("POST", "/pas-bestil/rediger"),
    ("POST", "/pas-bestil/afpublicer"),
    ("POST", "/pas-bestil/historik/1/gendan"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_editors_and_admins_get_in(app, client, login, tmp_path, method, path) -> None:
    knowledge_app(app, tmp_path, HashEmbedder())
    anonymous = client.open(BASE + path, method=method)
    assert anonymous.status_code in (302, 400)  # login redirect (or CSRF before it on a POST)
    if anonymous.status_code == 302:
        assert "/konsol/login" in anonymous.headers["Location"]
    token = login(client, "agent", "anne")
    response = client.open(BASE + path, method=method, data={"csrf_token": token})
    assert response.status_code == 403
    assert "Ingen adgang" in page(response)


def test_admins_pass_the_editor_check(app, client, login, tmp_path) -> None:
    knowledge_app(app, tmp_path, HashEmbedder())
    login(client, "admin", "ida")
    assert client.get(BASE + "/").status_code == 200


def test_the_console_nav_links_the_guides_for_an_editor(editor: Editor) -> None:
    html = page(editor.client.get("/konsol/", follow_redirects=True))
    assert f'href="{BASE}/"' in html and "Vejledninger" in html


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/ny", {"data": {**NEW, "handling": "udgiv"}}),
        ("/pas-bestil/afpublicer", {}),
        ("/forhaandsvisning", {"json": {"body": "x"}}),
        ("/pas-bestil/historik/1/gendan", {}),
    ],
)
def test_every_change_needs_the_csrf_token(editor: Editor, path: str, kwargs: dict) -> None:
    response = editor.client.post(BASE + path, **kwargs)
    assert response.status_code == 400
    assert not (editor.guides_dir / "lystfiskertegn.md").exists()
    assert (editor.guides_dir / "pas-bestil.md").exists()


def test_the_model_loads_in_the_background_from_the_first_request(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the first publish does not wait 20–40 s for it; a setting, off by default in tests."""
    loading, release = threading.Event(), threading.Event()
    loaded = SimpleNamespace(version="v1")
    calls: list[object] = []

    def slow_load(settings: object) -> Any:
        calls.append(settings)
        loading.set()
        assert release.wait(timeout=10)
        return loaded

    monkeypatch.setattr(KnowledgeBase, "from_settings", slow_load)
    assert client.get("/healthz").status_code == 200
    assert not loading.wait(timeout=0.3)  # TESTING: off unless asked for

    app.config["KNOWLEDGE_WARM_UP"] = True
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 2  # the health check does not wait for the model
    assert loading.wait(timeout=5)
    assert client.get("/healthz").status_code == 200  # loading meanwhile: nothing new started
    release.set()
    deadline = time.monotonic() + 5
    while "borgerbot.knowledge" not in app.extensions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.extensions["borgerbot.knowledge"] is loaded
    assert len(calls) == 1


# --------------------------------------------------------------------------- list


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("", ["Hvordan får jeg MitID?", "Hvordan spærrer jeg mit MitID?"], []),
        ("?kategori=mitid", ["Hvordan får jeg MitID?"], ["pas-bestil"]),
        ("?ansvarlig=teknik-miljoe", ["affald-storskrald"], ["mitid-opret"]),
        ("?kommune=0101", ["i København?"], ["mitid-opret"]),
        ("?q=fingeraftryk", [], ["mitid-opret", "affald-storskrald"]),
        ("?q=passport", ["pas-bestil"], ["mitid-opret"]),
        ("?foer=2026-11-21", ["pas-bestil"], ["i København?"]),
        ("?status=unpublished", ["Viser 0 af 6"], ["pas-bestil"]),
    ],
)
def test_list_filters(editor: Editor, query: str, shown: list[str], hidden: list[str]) -> None:
    html = page(editor.client.get(BASE + "/" + query))
    for text in shown:
        assert text in html
    for text in hidden:
        assert (f"<code>{text}</code>" if re.fullmatch("[a-z-]+", text) else text) not in html


def test_list_shows_unpublished_and_broken_guides(editor: Editor) -> None:
    editor.post("/pas-bestil/afpublicer", {})
    (editor.guides_dir / "halv.md").write_text("---\ntitle: Halv\n---\nTekst\n", encoding="utf-8")
    html = page(editor.client.get(BASE + "/?status=unpublished"))
    assert "<code>pas-bestil</code>" in html and "Afpubliceret" in html
    html = page(editor.client.get(BASE + "/?status=fejl"))
    assert "<code>halv</code>" in html and "Fejl i filen" in html


# --------------------------------------------------------------------------- create and edit


def test_invalid_form_shows_danish_errors_linked_to_their_fields(editor: Editor) -> None:
    bad = {**NEW, "slug": "Lyst Fisker", "url": "fisketegn.dk", "title": "<script>x</script>",
           "body": "Se <b>her</b>", "handling": "udgiv"}  # fmt: skip
    response = editor.post("/ny", bad)
    assert response.status_code == 400
    html = page(response)
    assert 'role="alert"' in html and "Ret de 3 fejl" in html
    for name, message in [
        ("slug", "Brug kun små bogstaver"),
        ("url", "Linket skal begynde med https://"),
        ("body", "HTML er ikke tilladt"),
    ]:
        assert re.search(rf'id="f-{name}-error">.*?{message}', html), name
        field = re.search(rf'<(?:input|textarea) id="f-{name}"[^>]*>', html)
        assert field is not None
        assert f'aria-describedby="f-{name}-error f-{name}-hint"' in field[0]
        assert 'aria-invalid="true"' in field[0]
        assert f'href="#f-{name}"' in html  # the summary links to the field
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert not (editor.guides_dir / "lystfiskertegn.md").exists()
    assert not editor.store.unpublished_dir.exists()


def test_every_field_has_a_label_and_a_hint(editor: Editor) -> None:
    html = page(editor.client.get(BASE + "/ny"))
    for name in ("title", "slug", "category", "owner", "keywords", "url", "municipality",
                 "updated", "body"):  # fmt: skip
        assert f'<label for="f-{name}">' in html
        assert f'id="f-{name}-hint"' in html
        assert re.search(rf'id="f-{name}"[^>]*aria-describedby="f-{name}-hint"', html)
    assert 'lang="da"' in html


def test_new_guide_from_the_unanswered_report_is_prefilled(editor: Editor) -> None:
    query = {"title": "Lystfiskertegn", "question": ["hvor køber jeg fisketegn", "<b>fiske</b>"],
             "keywords": "fisketegn, køber,, fiske", "kommune": "0101"}  # fmt: skip
    html = page(editor.client.get(BASE + "/ny", query_string=query))
    assert 'id="f-title" name="title" value="Lystfiskertegn"' in html
    assert "Det spurgte borgerne om" in html and "<li>hvor køber jeg fisketegn</li>" in html
    assert "&lt;b&gt;fiske&lt;/b&gt;" in html
    assert ">fisketegn, køber, fiske</textarea>" in html
    assert 'id="f-municipality" name="municipality" value="0101"' in html
    # an address that is not a municipality code is not taken over
    html = page(editor.client.get(BASE + "/ny", query_string={"kommune": "01 01"}))
    assert 'id="f-municipality" name="municipality" value="*"' in html


def test_publish_a_new_guide_updates_the_index_and_the_history(editor: Editor) -> None:
    assert "lystfiskertegn" not in editor.indexed()
    response = editor.post("/ny", {**NEW, "handling": "udgiv"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/lystfiskertegn/rediger")
    text = (editor.guides_dir / "lystfiskertegn.md").read_text(encoding="utf-8")
    assert "\r" not in text and text.startswith('---\ntitle: "Hvordan får jeg et lystfiskertegn?"')
    assert "lystfiskertegn" in editor.indexed()
    # the web process's own KnowledgeBase follows without a restart
    assert "lystfiskertegn" in {g.slug for g in editor.kb.searcher.index.guides}
    html = page(editor.client.get(response.headers["Location"]))
    assert "er udgivet. Assistenten svarer ud fra den nye tekst nu." in html
    assert "Udgiv ændringer" in html and "Afpublicér" in html
    html = page(editor.client.get(BASE + "/lystfiskertegn/historik"))
    assert "Eva Jensen" in html and "oprettet" in html


def test_a_draft_is_saved_but_not_indexed(editor: Editor) -> None:
    response = editor.post("/ny", {**NEW, "handling": "kladde"})
    assert response.status_code == 302
    assert (editor.store.unpublished_dir / "lystfiskertegn.md").exists()
    assert "lystfiskertegn" not in editor.indexed()
    html = page(editor.client.get(BASE + "/lystfiskertegn/rediger"))
    assert "gemt som kladde" in html and "Gem som kladde" in html
    editor.post("/lystfiskertegn/udgiv", {})
    assert "lystfiskertegn" in editor.indexed()


def test_a_taken_slug_is_refused_in_danish(editor: Editor) -> None:
    response = editor.post("/ny", {**NEW, "slug": "pas-bestil", "handling": "udgiv"})
    assert response.status_code == 400
    assert "Der findes allerede en vejledning med denne korte adresse" in page(response)


def test_editing_keeps_the_address_and_publishes(editor: Editor) -> None:
    entry = editor.store.get("pas-bestil")
    assert entry is not None
    form = {name: getattr(entry.form, name) for name in NEW}
    form.update(title="Hvordan får jeg et nyt pas?", slug="andet-navn", handling="udgiv",
                base_sha=file_sha(entry.path))  # fmt: skip
    response = editor.post("/pas-bestil/rediger", form)
    assert response.status_code == 302
    assert not (editor.guides_dir / "andet-navn.md").exists()
    record = next(g for g in load_index(editor.data_dir / "index").guides if g.slug == "pas-bestil")
    assert record.title == "Hvordan får jeg et nyt pas?"
    # a second save from the same (now stale) page would overwrite the first: refused
    form["title"] = "Et andet forslag"
    response = editor.post("/pas-bestil/rediger", form)
    assert response.status_code == 409
    assert "ændret af en anden" in page(response)


def default_button(html: str) -> str:
    """The form's first submit button: the one a browser submits with when Enter is pressed."""
    form = html.split('id="guide-form"', 1)[1]
    button = re.search(r'<button type="submit" name="handling" value="([a-z]+)"', form)
    assert button is not None
    return button[1]


def test_enter_in_a_field_never_publishes(editor: Editor) -> None:
    assert default_button(page(editor.client.get(BASE + "/ny"))) == "kladde"
    assert default_button(page(editor.client.get(BASE + "/pas-bestil/rediger"))) == "kontrol"
    editor.post("/mitid-spaer/afpublicer", {})
    assert default_button(page(editor.client.get(BASE + "/mitid-spaer/rediger"))) == "kladde"

    # Enter in the title of a published guide: checked and shown again, nothing written
    entry = editor.store.get("pas-bestil")
    assert entry is not None
    before = entry.path.read_text(encoding="utf-8")
    form = {name: getattr(entry.form, name) for name in NEW}
    form.update(title="Ændret titel", url="ikke et link", handling="kontrol",
                base_sha=file_sha(entry.path))  # fmt: skip
    response = editor.post("/pas-bestil/rediger", form)
    assert response.status_code == 200
    html = page(response)
    assert "Intet er gemt. Tryk på «Udgiv ændringer»" in html
    assert 'value="Ændret titel"' in html  # the editor's text is kept on the page
    assert "Linket skal begynde med https://" in html  # and checked
    assert f'name="base_sha" value="{file_sha(entry.path)}"' in html
    assert entry.path.read_text(encoding="utf-8") == before
    assert editor.store.history("pas-bestil") == []
    # a new guide is not created by a check either
    response = editor.post("/ny", {**NEW, "handling": "kontrol"})
    assert response.status_code == 200 and "Intet er gemt endnu" in page(response)
    assert editor.store.get("lystfiskertegn") is None


def test_unpublish_and_publish_again(editor: Editor) -> None:
    response = editor.post("/mitid-spaer/afpublicer", {})
    assert response.status_code == 302
    assert "mitid-spaer" not in editor.indexed()
    assert "mitid-spaer" not in {g.slug for g in editor.kb.searcher.index.guides}
    html = page(editor.client.get(BASE + "/mitid-spaer/rediger"))
    assert "er afpubliceret" in html and "Vejledningen er ikke udgivet" in html
    editor.post("/mitid-spaer/udgiv", {})
    assert "mitid-spaer" in editor.indexed()


def test_unknown_guides_are_404(editor: Editor) -> None:
    for path in ("/findes-ikke/rediger", "/..%2Fetc/rediger", "/pas-bestil/historik/99"):
        assert editor.client.get(BASE + path).status_code == 404


# --------------------------------------------------------------------------- versions


def test_history_and_restore(editor: Editor) -> None:
    editor.post("/ny", {**NEW, "handling": "udgiv"})
    second = {**NEW, "body": "Helt ny tekst om fisketegn.", "handling": "udgiv"}
    editor.post("/lystfiskertegn/rediger", second)
    record = next(g for g in load_index(editor.data_dir / "index").guides
                  if g.slug == "lystfiskertegn")  # fmt: skip
    assert record.body == "Helt ny tekst om fisketegn."

    html = page(editor.client.get(BASE + "/lystfiskertegn/historik/1"))
    assert "Gendan version 1" in html and "Forskel fra den nuværende tekst" in html
    assert "+Du køber lystfiskertegnet" in html and "-Helt ny tekst" in html

    response = editor.post("/lystfiskertegn/historik/1/gendan", {})
    assert response.status_code == 302
    assert "er gendannet som en ny version" in page(editor.client.get(response.headers["Location"]))
    record = next(g for g in load_index(editor.data_dir / "index").guides
                  if g.slug == "lystfiskertegn")  # fmt: skip
    assert record.body.startswith("Du køber lystfiskertegnet")
    html = page(editor.client.get(BASE + "/lystfiskertegn/historik"))
    assert "gendannet fra version 1" in html
    assert html.count("Vis version") == 3


def test_a_version_whose_text_is_missing_is_a_danish_404(editor: Editor) -> None:
    editor.post("/ny", {**NEW, "handling": "udgiv"})
    (editor.data_dir / "guide-history" / "lystfiskertegn" / "000001.md").unlink()
    response = editor.client.get(BASE + "/lystfiskertegn/historik/1")
    assert response.status_code == 404
    assert "Teksten til version 1 af «Hvordan får jeg et lystfiskertegn?» mangler" in page(response)
    assert editor.client.get(BASE + "/lystfiskertegn/historik").status_code == 200
    response = editor.post("/lystfiskertegn/historik/1/gendan", {}, follow_redirects=True)
    assert "Version 1 kan ikke gendannes: Versionen findes ikke." in page(response)


def test_restore_of_a_starter_guide_to_its_file_text(editor: Editor) -> None:
    original = (editor.guides_dir / "pas-bestil.md").read_text(encoding="utf-8")
    entry = editor.store.get("pas-bestil")
    assert entry is not None
    form = {name: getattr(entry.form, name) for name in NEW}
    editor.post("/pas-bestil/rediger", {**form, "body": "Kort.", "handling": "udgiv"})
    assert "Kort." in (editor.guides_dir / "pas-bestil.md").read_text(encoding="utf-8")
    html = page(editor.client.get(BASE + "/pas-bestil/historik"))
    assert "ændret uden for konsollen" in html and "ukendt (ændret i filen)" in html
    editor.post("/pas-bestil/historik/1/gendan", {})
    assert (editor.guides_dir / "pas-bestil.md").read_text(encoding="utf-8") == original


# --------------------------------------------------------------------------- preview


def test_preview_renders_safely_and_reports_problems(editor: Editor) -> None:
    body = "Kort svar.\n\n## Trin\n1. [Klik](javascript:alert(1))\n\n<script>alert(1)</script>"
    response = editor.client.post(
        BASE + "/forhaandsvisning",
        json={**NEW, "body": body, "url": "nej"},
        headers={"X-CSRF-Token": editor.csrf},
    )
    assert response.status_code == 200
    data = response.get_json()
    assert "<script" not in data["html"] and "javascript:" not in data["html"]
    assert "<h2>Trin</h2>" in data["html"]
    assert data["answer"]["summary"] == "Kort svar."  # shown while the guide is still invalid
    assert data["sections"] == ["Kort svar", "Trin", "Søgeord"]
    fields = {p["field"] for p in data["problems"]}
    assert fields == {"url", "body"}
    assert all(p["message"] and p["label"] for p in data["problems"])


def test_preview_shows_the_answer_and_the_searchable_sections(editor: Editor) -> None:
    response = editor.client.post(
        BASE + "/forhaandsvisning", json=NEW, headers={"X-CSRF-Token": editor.csrf}
    )
    data = response.get_json()
    assert data["problems"] == []
    assert data["answer"]["summary"].startswith("Du køber lystfiskertegnet")
    assert data["sections"] == ["Kort svar", "Sådan gør du", "Søgeord"]


def test_a_file_the_loader_rejects_is_explained_in_danish(editor: Editor) -> None:
    text = (editor.guides_dir / "pas-bestil.md").read_text(encoding="utf-8")
    (editor.guides_dir / "pas-bestil.md").unlink()
    (editor.guides_dir / "pas.md").write_text(text, encoding="utf-8")  # slug pas-bestil ≠ pas
    html = page(editor.client.get(BASE + "/pas/rediger"))
    assert "Filen er ugyldig og indgår ikke i assistentens svar" in html
    assert "Den korte adresse «pas-bestil» passer ikke til filnavnet «pas.md»." in html
    assert "does not match" not in html


def test_edit_page_preview_escapes_stored_html(editor: Editor) -> None:
    path = editor.guides_dir / "pas-bestil.md"
    path.write_text(path.read_text().replace("Nyt pas", "<img src=x onerror=alert(1)> Nyt pas"))
    html = page(editor.client.get(BASE + "/pas-bestil/rediger"))
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "HTML er ikke tilladt" in html  # and the editor is told to remove it


# --------------------------------------------------------------------------- try a question


def test_try_a_question_shows_decision_ranking_scores_and_passage(editor: Editor) -> None:
    html = page(editor.client.get(BASE + "/proev?spoergsmaal=Hvordan+bestiller+jeg+pas"))
    assert "Beslutning:" in html
    assert re.search(r"<td>\d\.\d{3}</td>", html)  # scores
    assert "Afsnit, der passede bedst" in html
    assert "<code>pas-bestil</code>" in html
    result = editor.kb.search("Hvordan bestiller jeg pas", "*")
    assert f"<code>{result.results[0].slug}</code>" in html  # the assistant's own ranking
    html = page(editor.client.get(BASE + "/proev?spoergsmaal=storskrald&kommune=0101"))
    assert "I København" in html


def test_try_uses_the_function_the_answer_action_decides_with(
    editor: Editor, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    real = KnowledgeBase.reply

    def spy(self: KnowledgeBase, question: str, municipality: str | None = None,
            **kw: Any) -> Any:  # fmt: skip
        calls.append((question, municipality, kw))
        return real(self, question, municipality, **kw)

    monkeypatch.setattr(KnowledgeBase, "reply", spy)
    html = page(
        editor.client.get(BASE + "/proev?spoergsmaal=Hvordan+bestiller+jeg+pas&kommune=0101")
    )
    assert calls == [("Hvordan bestiller jeg pas", "0101", {})]
    expected = editor.kb.reply("Hvordan bestiller jeg pas", "0101")
    label = {"answer": "Svarer", "clarify": "Spørger «Mente du …?»", "fallback": "Intet sikkert"}
    assert label[expected.decision] in html
    assert "Det er den vejledningssøgning, som assistenten selv bruger" in html
    assert "besvares kun, når beslutningen er «Svarer»" in html


def test_try_page_without_question_has_just_the_form(editor: Editor) -> None:
    html = page(editor.client.get(BASE + "/proev"))
    assert '<label for="q">Spørgsmål</label>' in html and "Beslutning:" not in html


# --------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_published_guide_answers_a_question_it_could_not_before(
    app: Any,
    client: Any,
    login: Callable[..., str],
    tmp_path: Path,
    embedder: Any,
    knowledge_settings: KnowledgeSettings,
) -> None:
    """Over the 45 starter guides and their built index (the calibration's setting)."""
    if not (knowledge_settings.index_dir / "current").exists():
        pytest.fail("no index: run `make index`")
    _, data_dir, _ = knowledge_app(app, tmp_path, embedder, knowledge_settings)
    assistant = KnowledgeBase(data_dir / "index", embedder)  # as the action server holds it
    question = "Hvor køber jeg et lystfiskertegn?"
    before = assistant.search(question)
    assert before.decision == "fallback", before  # the assistant cannot answer it yet
    csrf = login(client, "editor", "eva")

    response = client.post(BASE + "/ny", data={**NEW, "handling": "udgiv", "csrf_token": csrf})
    assert response.status_code == 302, page(response)

    after = assistant.search(question)
    assert after.decision == "answer", after
    assert after.best is not None and after.best.slug == "lystfiskertegn"
    assert after.best.summary.startswith("Du køber lystfiskertegnet")
    html = page(client.get(BASE + "/proev", query_string={"spoergsmaal": question}))
    assert "Svarer" in html and "<code>lystfiskertegn</code>" in html
    assert GuideForm.from_mapping(NEW).to_text() == (
        tmp_path / "content" / "guides" / "lystfiskertegn.md"
    ).read_text(encoding="utf-8")
