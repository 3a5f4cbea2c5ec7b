"""Editor console: guides listed, written, previewed, published, unpublished, their versions and
restore, and "Prøv et spørgsmål" through `KnowledgeBase.reply`, the search and decision the answer
action replies with.

Publishing writes the guide file and rebuilds the index incrementally in this process (the model
is loaded once per process, in the background from start: `extensions.get_knowledge`); the action
server's KnowledgeBase moves to the new index version on its next search, so no process restarts.
The library is `knowledge.authoring`.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot.hours import TZ
from bot.web.auth import roles_required
from bot.web.extensions import get_knowledge
from knowledge.authoring import (
    LABELS_DA,
    MAX_TITLE,
    PUBLISHED,
    UNPUBLISHED,
    Change,
    Entry,
    GuideError,
    GuideForm,
    GuideStore,
    Problem,
    State,
    ValidationFailed,
    advice,
    check_form,
    draft_guide,
    file_sha,
    parse_key,
    render_html,
    split_keywords,
)
from knowledge.guides import CODE, NATIONAL
from knowledge.passages import split_guide

log = logging.getLogger(__name__)
bp = Blueprint("editor", __name__, url_prefix="/konsol/vejledninger")

DECISIONS_DA = {
    "answer": ("Svarer", "Assistenten svarer med den øverste vejledning."),
    "clarify": ("Spørger «Mente du …?»", "Assistenten tilbyder de markerede vejledninger."),
    "fallback": (
        "Intet sikkert svar",
        "Assistenten beder borgeren skrive med andre ord og tilbyder en medarbejder.",
    ),
}
STATE_DA = {PUBLISHED: "Udgivet", UNPUBLISHED: "Afpubliceret"}
# the form's `handling`: the two buttons, and "check" (Enter in a field of a published guide)
PUBLISH, DRAFT, CHECK = "udgiv", "kladde", "kontrol"
HINTS_DA = {
    "title": "Skriv titlen, som en borger ville spørge, fx «Hvordan får jeg MitID?».",
    "slug": "Små bogstaver a–z, tal og bindestreger. Den kan ikke ændres bagefter.",
    "category": "Fx mitid, familie, sundhed. Vælg helst en, der findes i forvejen.",
    "owner": "Den afdeling, der har ansvaret, fx borgerservice eller ydelser.",
    "keywords": "Adskil med komma. Tag synonymer, stavefejl og ord uden æ, ø og å med.",
    "url": "Hvor borgeren selv kan gøre det, fx https://www.borger.dk/…",
    "municipality": "* betyder alle kommuner. En kommunekode, fx 0101, gælder kun den kommune.",
    "updated": "Datoen for indholdet (ÅÅÅÅ-MM-DD).",
    "body": "Markdown. Start med et kort svar i ét afsnit – det er det, assistenten svarer med. "
    "Brug ## til overskrifter, 1. til trin og - til punkter. HTML er ikke tilladt.",
}


def _store() -> GuideStore:
    settings = current_app.config["SETTINGS"].knowledge
    return GuideStore.from_settings(settings, embedder=lambda: get_knowledge().embedder)


def local_time(at: datetime) -> str:
    return at.astimezone(TZ).strftime("%d.%m.%Y kl. %H.%M")


def today() -> str:
    return datetime.now(TZ).date().isoformat()


def _author() -> tuple[str, str]:
    return g.user.username, g.user.display_name


def _entry_or_404(store: GuideStore, key: str) -> Entry:
    try:
        parse_key(key)
    except ValueError:
        abort(404)
    entry = store.get(key)
    if entry is None:
        abort(404)
    return entry


def _errors(problems: list[Problem]) -> dict[str, str]:
    """Field name → Danish message; problems of the file as a whole go with the text."""
    out: dict[str, str] = {}
    for p in problems:
        out.setdefault(p.field if p.field in HINTS_DA else "body", p.da)
    return out


def _published_message(change: Change, title: str) -> str:
    if change.state == UNPUBLISHED:
        return f"«{title}» er gemt som kladde. Den er ikke udgivet."
    build = change.build
    figures = (
        f" Indekset er opdateret på {change.seconds:.1f} s".replace(".", ",")
        + f" ({build.embedded_guides} vejledning(er) indlejret)."
        if build
        else ""
    )
    return f"«{title}» er udgivet. Assistenten svarer ud fra den nye tekst nu.{figures}"


def _options(entries: list[Entry]) -> dict[str, list[str]]:
    return {
        "categories": sorted({e.form.category for e in entries if e.form.category}),
        "owners": sorted({e.form.owner for e in entries if e.form.owner}),
        "municipalities": sorted({e.municipality for e in entries} | {NATIONAL}),
    }


@bp.app_template_filter("kommune")
def municipality_label(code: str) -> str:
    return "Alle kommuner" if code == NATIONAL else code


# --------------------------------------------------------------------------- list


@bp.get("/")
@roles_required("editor")
def guides() -> ResponseReturnValue:
    entries = _store().entries()
    f = {k: request.args.get(k, "").strip() for k in
         ("q", "kategori", "ansvarlig", "kommune", "status", "foer", "sorter")}  # fmt: skip
    shown = entries
    if f["q"]:
        needle = f["q"].lower()
        shown = [e for e in shown if needle in " ".join(
            (e.form.title, e.slug, e.form.keywords)).lower()]  # fmt: skip
    if f["kategori"]:
        shown = [e for e in shown if e.form.category == f["kategori"]]
    if f["ansvarlig"]:
        shown = [e for e in shown if e.form.owner == f["ansvarlig"]]
    if f["kommune"]:
        shown = [e for e in shown if e.municipality == f["kommune"]]
    if f["status"] in (PUBLISHED, UNPUBLISHED):
        shown = [e for e in shown if e.state == f["status"]]
    elif f["status"] == "fejl":
        shown = [e for e in shown if e.error]
    before_error = None
    if f["foer"]:
        try:
            before = date.fromisoformat(f["foer"]).isoformat()
            shown = [e for e in shown if e.form.updated and e.form.updated < before]
        except ValueError:
            before_error = "Skriv datoen som ÅÅÅÅ-MM-DD."
    if f["sorter"] == "opdateret":
        shown = sorted(shown, key=lambda e: (e.form.updated, e.form.title.lower()))
    else:
        shown = sorted(shown, key=lambda e: (e.form.title.lower(), e.municipality))
    return render_template(
        "editor/list.html",
        entries=shown,
        total=len(entries),
        filters=f,
        before_error=before_error,
        states=STATE_DA,
        **_options(entries),
    )


# --------------------------------------------------------------------------- create / edit


def _render_form(
    *,
    form: GuideForm,
    entry: Entry | None,
    errors: dict[str, str] | None = None,
    general: str | None = None,
    notice: str | None = None,
    status: int = 200,
    base_sha: str = "",
    questions: list[str] | None = None,
) -> ResponseReturnValue:
    entries = _store().entries()
    html = render_html(form.body) if form.body.strip() else ""
    return (
        render_template(
            "editor/edit.html",
            form=form,
            entry=entry,
            errors=errors or {},
            general=general,
            notice=notice,
            implicit_action=CHECK if entry is not None and entry.published else DRAFT,
            labels=LABELS_DA,
            hints=HINTS_DA,
            preview_html=html,
            summary=_summary(form),
            advice=advice(form),
            base_sha=base_sha,
            states=STATE_DA,
            questions=questions or [],
            **_options(entries),
        ),
        status,
    )


def _summary(form: GuideForm) -> str:
    return draft_guide(form).summary


def _save(
    form: GuideForm, entry: Entry | None, state: State, base_sha: str | None
) -> ResponseReturnValue:
    store = _store()
    username, name = _author()
    try:
        change = store.save(
            form, username, state=state, new=entry is None, author_name=name, base_sha=base_sha
        )
    except ValidationFailed as exc:
        return _render_form(form=form, entry=entry, errors=_errors(exc.problems), status=400,
                            base_sha=base_sha or "")  # fmt: skip
    except GuideError as exc:
        return _render_form(form=form, entry=entry, general=exc.da, status=409,
                            base_sha=base_sha or "")  # fmt: skip
    except Exception:
        log.exception("publishing %s failed", form.key)
        return _render_form(
            form=form, entry=entry, status=500, base_sha=base_sha or "",
            general="Vejledningen kunne ikke udgives, fordi indekset ikke kunne opdateres. "
            "Intet er ændret. Prøv igen, eller kontakt en administrator.",
        )  # fmt: skip
    if change.changed:
        log.info(
            "guide %s %s by %s (version %s, %.1f s)", change.key, change.state, username,
            change.version.number if change.version else "-", change.seconds,
        )  # fmt: skip
        flash(_published_message(change, form.title))
    else:
        flash("Ingen ændringer at gemme.")
    return redirect(url_for("editor.edit", key=change.key))


def _action_state() -> State | None:
    action = request.form.get("handling")
    return {PUBLISH: PUBLISHED, DRAFT: UNPUBLISHED}.get(action or "")


def _checked(form: GuideForm, entry: Entry | None, base_sha: str) -> ResponseReturnValue:
    """Enter in a field of a published guide (without JavaScript; with it, editor.js stays on
    the page): the form checked and shown again, nothing saved."""
    notice = (
        "Intet er gemt. Tryk på «Udgiv ændringer», når du vil udgive dine ændringer."
        if entry is not None and entry.published
        else "Intet er gemt endnu. Tryk på «Udgiv» eller «Gem som kladde»."
    )
    return _render_form(form=form, entry=entry, errors=_errors(check_form(form)),
                        base_sha=base_sha, notice=notice)  # fmt: skip


@bp.get("/ny")
@roles_required("editor")
def new() -> ResponseReturnValue:
    """A new guide; from the unanswered-questions report with `title`, the citizens' wordings
    (`question`, repeated), their words as `keywords` and the report's municipality (`kommune`)
    filled in."""
    title = " ".join(request.args.get("title", "").split())[:MAX_TITLE]
    questions = [" ".join(q.split())[:300] for q in request.args.getlist("question") if q.strip()]
    keywords = [k[:60] for k in split_keywords(request.args.get("keywords", ""))][:20]
    municipality = request.args.get("kommune", "").strip()
    if municipality != NATIONAL and not CODE.match(municipality):
        municipality = NATIONAL
    form = GuideForm(title=title, keywords=", ".join(keywords), municipality=municipality,
                     updated=today())  # fmt: skip
    return _render_form(form=form, entry=None, questions=questions[:10])


@bp.post("/ny")
@roles_required("editor")
def create() -> ResponseReturnValue:
    if request.form.get("handling") == CHECK:
        return _checked(GuideForm.from_mapping(request.form), None, "")
    state = _action_state()
    if state is None:
        abort(400, description="Vælg «Udgiv» eller «Gem som kladde».")
    return _save(GuideForm.from_mapping(request.form), None, state, None)


@bp.get("/<key>/rediger")
@roles_required("editor")
def edit(key: str) -> ResponseReturnValue:
    entry = _entry_or_404(_store(), key)
    errors: dict[str, str] = {}
    if entry.error:  # the form's checks, or the loader's own reason (e.g. slug ≠ file name)
        problems = check_form(entry.form) or [Problem("file", entry.error_da or "", entry.error)]
        errors = _errors(problems)
    general = (
        "Filen er ugyldig og indgår ikke i assistentens svar, før fejlene er rettet."
        if entry.error and entry.published
        else None
    )
    return _render_form(form=entry.form, entry=entry, errors=errors, general=general,
                        base_sha=file_sha(entry.path))  # fmt: skip


@bp.post("/<key>/rediger")
@roles_required("editor")
def update(key: str) -> ResponseReturnValue:
    entry = _entry_or_404(_store(), key)
    # the address of an existing guide is fixed: evaluation sets and statistics refer to it
    form = replace(
        GuideForm.from_mapping(request.form, entry.form.extra),
        slug=entry.slug,
        municipality=entry.municipality,
    )
    if request.form.get("handling") == CHECK:
        return _checked(form, entry, request.form.get("base_sha") or "")
    state = _action_state()
    if state is None:
        abort(400, description="Vælg «Udgiv» eller «Gem som kladde».")
    return _save(form, entry, state, request.form.get("base_sha") or None)


@bp.post("/<key>/afpublicer")
@roles_required("editor")
def unpublish(key: str) -> ResponseReturnValue:
    return _set_state(key, UNPUBLISHED)


@bp.post("/<key>/udgiv")
@roles_required("editor")
def publish(key: str) -> ResponseReturnValue:
    return _set_state(key, PUBLISHED)


def _set_state(key: str, state: State) -> ResponseReturnValue:
    store = _store()
    entry = _entry_or_404(store, key)
    username, name = _author()
    try:
        change = store.set_state(key, state, username, name)
    except ValidationFailed as exc:
        flash("Vejledningen kan ikke udgives: " + " ".join(p.da for p in exc.problems))
        return redirect(url_for("editor.edit", key=key))
    except GuideError as exc:
        flash(exc.da)
        return redirect(url_for("editor.edit", key=key))
    if not change.changed:
        flash("Vejledningen var allerede " + STATE_DA[state].lower() + ".")
    elif state == PUBLISHED:
        flash(_published_message(change, entry.form.title))
    else:
        flash(f"«{entry.form.title}» er afpubliceret. Assistenten bruger den ikke længere.")
    return redirect(url_for("editor.edit", key=key))


# --------------------------------------------------------------------------- preview


@bp.post("/forhaandsvisning")
@roles_required("editor")
def preview() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="Forventede felterne som JSON.")
    form = GuideForm.from_mapping({k: v for k, v in data.items() if isinstance(v, str)})
    if data.get("fixed_key"):  # editing: the address is fixed, as the save will fix it
        try:
            slug, municipality = parse_key(str(data["fixed_key"]))
        except ValueError:
            abort(400)
        form = replace(form, slug=slug, municipality=municipality)
    summary = _summary(form)
    sections = [p.section for p in split_guide(draft_guide(form))] if form.body.strip() else []
    return {
        "html": render_html(form.body) if form.body.strip() else "",
        "answer": {"title": form.title, "summary": summary, "url": form.url},
        "problems": [
            {"field": p.field, "label": p.label, "message": p.da} for p in check_form(form)
        ],
        "advice": advice(form),
        "sections": sections,
    }


# --------------------------------------------------------------------------- history


@bp.get("/<key>/historik")
@roles_required("editor")
def history(key: str) -> ResponseReturnValue:
    store = _store()
    entry = _entry_or_404(store, key)
    return render_template(
        "editor/history.html", entry=entry, versions=store.history(key), local_time=local_time,
        states=STATE_DA,
    )  # fmt: skip


@bp.get("/<key>/historik/<int:number>")
@roles_required("editor")
def version(key: str, number: int) -> ResponseReturnValue:
    store = _store()
    entry = _entry_or_404(store, key)
    found = next((v for v in store.history(key) if v.number == number), None)
    if found is None:
        abort(404)
    try:
        text = store.version_text(key, number)
    except GuideError:  # the facts (.json) are there, the text (.md) is not
        log.warning("guide %s: version %s has no text in the history folder", key, number)
        message = (
            f"Teksten til version {number} af «{entry.form.title or entry.slug}» mangler i "
            "historikken, så den kan hverken vises eller gendannes. De andre versioner kan stadig "
            "ses under Historik."
        )
        return render_template("console/error.html", heading="Versionen mangler",
                               message=message), 404  # fmt: skip
    current = entry.path.read_text(encoding="utf-8")
    diff = list(
        difflib.unified_diff(
            current.splitlines(), text.splitlines(), "nuværende", f"version {number}", lineterm=""
        )
    )[2:]
    form = GuideForm.from_text(text)
    return render_template(
        "editor/version.html", entry=entry, version=found, text=text, diff=diff,
        preview_html=render_html(form.body), local_time=local_time, states=STATE_DA,
        same=text == current,
    )  # fmt: skip


@bp.post("/<key>/historik/<int:number>/gendan")
@roles_required("editor")
def restore(key: str, number: int) -> ResponseReturnValue:
    store = _store()
    entry = _entry_or_404(store, key)
    username, name = _author()
    try:
        change = store.restore(key, number, username, name)
    except (ValidationFailed, GuideError) as exc:
        message = (
            " ".join(p.da for p in exc.problems) if isinstance(exc, ValidationFailed) else exc.da
        )
        flash(f"Version {number} kan ikke gendannes: {message}")
        return redirect(url_for("editor.history", key=key))
    except Exception:
        log.exception("restoring %s version %s failed", key, number)
        flash("Versionen kunne ikke gendannes, fordi indekset ikke kunne opdateres. Intet er "
              "ændret.")  # fmt: skip
        return redirect(url_for("editor.history", key=key))
    if not change.changed:
        flash(f"Version {number} er den samme som den nuværende tekst.")
    else:
        where = (
            "Assistenten svarer ud fra den nu."
            if change.state == PUBLISHED
            else "Vejledningen er stadig afpubliceret."
        )
        flash(f"Version {number} af «{entry.form.title}» er gendannet som en ny version. {where}")
    return redirect(url_for("editor.edit", key=key))


# --------------------------------------------------------------------------- try a question


@bp.get("/proev")
@roles_required("editor")
def try_question() -> ResponseReturnValue:
    question = request.args.get("spoergsmaal", "").strip()[:1000]
    municipality = request.args.get("kommune", "").strip() or NATIONAL
    entries = _store().entries()
    result: Any = None
    error = None
    version_id = None
    if question:
        try:
            kb = get_knowledge()
            result = kb.reply(question, municipality)  # the function the answer action calls
            version_id = kb.version
        except Exception:
            log.exception("try-a-question search failed")
            error = "Søgningen kunne ikke køres lige nu. Prøv igen om lidt."
    offered = {h.slug for h in result.candidates} if result else set()
    keys = {(e.slug, e.municipality): e.key for e in entries}
    return render_template(
        "editor/try.html", question=question, municipality=municipality, result=result,
        offered=offered, decisions=DECISIONS_DA, error=error, version_id=version_id,
        keys=keys, **_options(entries),
    )  # fmt: skip
