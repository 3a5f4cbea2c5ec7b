"""Writing guides: the editor console's and the import/export CLI's library.

The Markdown files stay the source of truth (`BORGERBOT_GUIDES_DIR`, versioned in git); this
module writes them atomically, keeps a version history beside the index and re-indexes
incrementally, so the running assistant answers from the new text on its next question (the
action server's KnowledgeBase picks up the newest `current` index version on every search).

- Form fields ⇄ file text: `GuideForm.to_text()` writes the front matter in the starter guides'
  style; `GuideForm.from_guide()` reads it back (round-trip exact for those guides).
- Validation: `check_form()` gives each problem in Danish (editor form) and English (CLI, logs);
  the last word is always `knowledge.guides.parse_guide`, the loader's own validation.
- Unpublished guides are moved to a sibling folder, `<guides dir>-unpublished/` (same relative
  path), outside the tree that the index, `make index` and the evaluation read. A front-matter
  flag would have to be taught to every reader of the guides folder; a folder keeps "every `.md`
  under the guides folder is live" true, and git still versions both folders.
- History: `<data dir>/guide-history/<key>/<n>.md` (the exact file text) and `<n>.json` (who, when,
  what). A restore writes the old text as a new version. Text changed outside the console (git,
  an editor) is recorded as an "external" version before the console overwrites it.
- One writer at a time: every change takes an exclusive file lock (several web worker processes,
  the CLI), writes, rebuilds the index, and rolls the files back if the rebuild fails.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from knowledge.guides import (
    CODE,
    FRONT_MATTER,
    MESSAGES_DA,
    NATIONAL,
    REQUIRED_FIELDS,
    SLUG,
    URL,
    Guide,
    InvalidGuide,
    load_guides,
    parse_guide,
)
from knowledge.index import BuildReport, build_index

State = Literal["published", "unpublished"]
PUBLISHED: State = "published"
UNPUBLISHED: State = "unpublished"
UNPUBLISHED_SUFFIX = "-unpublished"
HISTORY_DIR = "guide-history"
LOCK_FILE = "locks/guides.lock"
LOCK_TIMEOUT_S = 120.0
OVERLAY_DIR = "kommuner"  # new municipal guides go to <guides>/kommuner/<code>/<slug>.md

FIELDS = ("title", "slug", "category", "owner", "keywords", "url", "municipality", "updated",
          "body")  # fmt: skip
LABELS_DA = {
    "title": "Titel",
    "slug": "Kort adresse (slug)",
    "category": "Kategori",
    "owner": "Ansvarlig afdeling",
    "keywords": "Søgeord",
    "url": "Link til selvbetjening",
    "municipality": "Kommune",
    "updated": "Opdateret",
    "body": "Tekst",
    "front matter": "Felter",
    "file": "Fil",
}
ACTIONS_DA = {
    "created": "oprettet",
    "saved": "gemt",
    "published": "udgivet",
    "unpublished": "afpubliceret",
    "restored": "gendannet",
    "imported": "importeret",
    "external": "ændret uden for konsollen",
}
MAX_TITLE = 200
MAX_SLUG = 80
HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?\s*>|<!--")
WORDS_MIN, WORDS_MAX = 120, 400  # the catalogue's style: 120–400 words


# --------------------------------------------------------------------------- keys


def guide_key(slug: str, municipality: str) -> str:
    """A guide's name in URLs and the history folder: `slug`, or `slug@code` for a municipality."""
    return slug if municipality == NATIONAL else f"{slug}@{municipality}"


def parse_key(key: str) -> tuple[str, str]:
    slug, at, municipality = key.partition("@")
    municipality = municipality if at else NATIONAL
    if not SLUG.match(slug) or not (municipality == NATIONAL or CODE.match(municipality)):
        raise ValueError(f"not a guide key: {key!r}")
    return slug, municipality


# --------------------------------------------------------------------------- form ⇄ text


def _yaml_scalar(value: str, *, in_flow: bool = False) -> str:
    """`value` as a plain YAML scalar when it reads back as the same string, else double-quoted
    (JSON strings are valid YAML double-quoted scalars)."""
    plain = value
    if value and value == value.strip() and "\n" not in value:
        probe = f"k: [{plain}]" if in_flow else f"k: {plain}"
        try:
            loaded = yaml.safe_load(probe)
        except yaml.YAMLError:
            loaded = None
        want = {"k": [value]} if in_flow else {"k": value}
        if loaded == want:
            return plain
    return json.dumps(value, ensure_ascii=False)


def _yaml_date(value: str) -> str:
    """An ISO date plain (YAML reads it as a date, as the loader expects), anything else quoted."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return json.dumps(value, ensure_ascii=False)
    return value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else json.dumps(value)


def split_keywords(text: str) -> list[str]:
    return [k.strip() for k in re.split(r"[,\n]", text) if k.strip()]


def normalise_body(text: str) -> str:
    """Unix line ends (browsers send CRLF), no trailing blanks, one final newline."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"


@dataclass(frozen=True)
class GuideForm:
    """The editor form: every front-matter field as text, plus the Markdown body."""

    title: str = ""
    slug: str = ""
    category: str = ""
    owner: str = ""
    keywords: str = ""  # comma-separated
    url: str = ""
    municipality: str = NATIONAL
    updated: str = ""  # ISO date
    body: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # other front matter

    @property
    def key(self) -> str:
        return guide_key(self.slug.strip(), self.municipality.strip() or NATIONAL)

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    @classmethod
    def from_guide(cls, guide: Guide) -> GuideForm:
        return cls(
            title=guide.title, slug=guide.slug, category=guide.category, owner=guide.owner,
            keywords=", ".join(guide.keywords), url=guide.url, municipality=guide.municipality,
            updated=guide.updated.isoformat(), body=guide.body, extra=dict(guide.extra),
        )  # fmt: skip

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], extra: dict[str, Any] | None = None
    ) -> GuideForm:
        """From a submitted form (missing fields are empty); text is trimmed, CRLF normalised."""

        def text(name: str) -> str:
            value = data.get(name)
            return "" if value is None else str(value)

        return cls(
            title=" ".join(text("title").split()),
            slug=text("slug").strip(),
            category=text("category").strip(),
            owner=text("owner").strip(),
            keywords=", ".join(split_keywords(text("keywords"))),
            url=text("url").strip(),
            municipality=text("municipality").strip() or NATIONAL,
            updated=text("updated").strip(),
            body=normalise_body(text("body")).strip("\n"),
            extra=dict(extra or {}),
        )

    @classmethod
    def from_text(cls, text: str, path: Path | None = None) -> GuideForm:
        """Any file, valid or not: what can be read of it, so a broken file can be mended."""
        try:
            return cls.from_guide(parse_guide(text, path))
        except InvalidGuide:
            pass
        match = FRONT_MATTER.match(text.lstrip("\ufeff"))
        meta: Any = {}
        body = text
        if match:
            body = match[2]
            try:
                meta = yaml.safe_load(match[1])
            except (yaml.YAMLError, ValueError):
                meta = {}
        if not isinstance(meta, dict):
            meta = {}
        data = {k: _as_text(meta.get(k)) for k in REQUIRED_FIELDS}
        if not data["slug"] and path is not None:
            data["slug"] = path.stem
        data["body"] = body
        extra = {k: v for k, v in meta.items() if k not in REQUIRED_FIELDS}
        return cls.from_mapping(data, extra)

    def to_text(self) -> str:
        """The guide file: front matter in the starter guides' style, then the body."""
        keywords = ", ".join(_yaml_scalar(k, in_flow=True) for k in self.keyword_list)
        lines = [
            "---",
            f"title: {json.dumps(self.title.strip(), ensure_ascii=False)}",
            f"slug: {_yaml_scalar(self.slug.strip())}",
            f"category: {_yaml_scalar(self.category.strip())}",
            f"owner: {_yaml_scalar(self.owner.strip())}",
            f"keywords: [{keywords}]",
            f"url: {_yaml_scalar(self.url.strip())}",
            f"municipality: {json.dumps(self.municipality.strip(), ensure_ascii=False)}",
            f"updated: {_yaml_date(self.updated.strip())}",
        ]
        if self.extra:
            dumped = yaml.safe_dump(
                self.extra, allow_unicode=True, sort_keys=False, default_flow_style=None
            )
            lines.extend(dumped.rstrip("\n").split("\n"))
        lines.append("---")
        return "\n".join(lines) + "\n" + normalise_body(self.body)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Problem:
    """One validation problem, worded for the editor (Danish) and for the CLI and logs."""

    field: str
    da: str
    en: str

    @property
    def label(self) -> str:
        return LABELS_DA.get(self.field, self.field)

    def __str__(self) -> str:
        return f"{self.field}: {self.en}"


def check_form(form: GuideForm) -> list[Problem]:
    """Every problem of the form at once (the loader stops at the first), Danish and English."""
    problems: list[Problem] = []

    def add(name: str, da: str, en: str) -> None:
        if not any(p.field == name for p in problems):
            problems.append(Problem(name, da, en))

    title = form.title.strip()
    if not title:
        add("title", "Skriv en titel.", "missing or empty")
    elif len(title) > MAX_TITLE:
        add("title", f"Titlen må højst være {MAX_TITLE} tegn.", f"longer than {MAX_TITLE}")
    slug = form.slug.strip()
    if not slug:
        add("slug", "Skriv en kort adresse (slug).", "missing or empty")
    elif not SLUG.match(slug) or len(slug) > MAX_SLUG:
        add(
            "slug",
            "Brug kun små bogstaver (a–z), tal og bindestreger, fx «pas-bestil» – ikke æ, ø, å "
            f"eller mellemrum, og højst {MAX_SLUG} tegn.",
            f"{slug!r} must be lowercase letters, digits and dashes (at most {MAX_SLUG})",
        )
    if not form.category.strip():
        add("category", "Skriv en kategori, fx «mitid».", "missing or empty")
    if not form.owner.strip():
        add("owner", "Skriv den ansvarlige afdeling, fx «borgerservice».", "missing or empty")
    if not form.keyword_list:
        add("keywords", "Skriv mindst ét søgeord.", "missing or empty")
    url = form.url.strip()
    if not url:
        add("url", "Skriv linket til selvbetjeningen.", "missing or empty")
    elif not URL.match(url):
        add(
            "url",
            "Linket skal begynde med https:// (eller http://) og må ikke indeholde mellemrum.",
            f"{url!r} is not an http(s) address",
        )
    municipality = form.municipality.strip()
    if municipality != NATIONAL and not CODE.match(municipality):
        add(
            "municipality",
            "Skriv * for alle kommuner eller en kommunekode (bogstaver og tal), fx 0101.",
            f"{municipality!r} must be '*' or a municipality code",
        )
    updated = form.updated.strip()
    if not updated:
        add("updated", "Skriv datoen, fx 2026-11-20.", "missing or empty")
    else:
        try:
            date.fromisoformat(updated)
        except ValueError:
            add(
                "updated",
                "Skriv datoen som ÅÅÅÅ-MM-DD, fx 2026-11-20.",
                f"{updated!r} is not an ISO date (YYYY-MM-DD)",
            )
    body = form.body.strip()
    if not body:
        add("body", "Skriv vejledningens tekst.", "the guide has no text")
    elif HTML_TAG.search(body):
        add(
            "body",
            "HTML er ikke tilladt i teksten. Brug Markdown: ## overskrift, 1. trin, - punkt.",
            "raw HTML is not allowed in a guide; use Markdown",
        )
    if not problems:  # the loader has the last word: what it rejects, the index would skip
        try:
            parse_guide(form.to_text())
        except InvalidGuide as exc:
            add(exc.field, exc.da, str(exc))
    return problems


def draft_guide(form: GuideForm) -> Guide:
    """The form as a Guide even while fields are missing or invalid, for the live preview (the
    answer paragraph, the sections search would see). Never for saving: see `check_form`."""
    try:
        updated = date.fromisoformat(form.updated.strip())
    except ValueError:
        updated = date.today()
    return Guide(
        slug=form.slug.strip() or "kladde", title=form.title.strip(),
        category=form.category.strip(), owner=form.owner.strip(),
        keywords=tuple(form.keyword_list), url=form.url.strip(),
        municipality=form.municipality.strip() or NATIONAL, updated=updated,
        body=normalise_body(form.body).strip(), extra=dict(form.extra),
    )  # fmt: skip


def advice(form: GuideForm) -> list[str]:
    """Hints on style (Danish); they never block publishing."""
    hints = []
    body = form.body.strip()
    first = next((b for b in re.split(r"\n\s*\n", body) if b.strip()), "")
    if body and (first.lstrip().startswith("#") or re.match(r"\s*(\d+\.|[-*+])\s", first)):
        hints.append(
            "Start teksten med et kort svar i ét afsnit før første overskrift eller liste – "
            "det er det afsnit, assistenten svarer med."
        )
    words = len(re.findall(r"\w+", body))
    if body and not WORDS_MIN <= words <= WORDS_MAX:
        hints.append(f"Teksten har {words} ord. Sigt efter {WORDS_MIN}–{WORDS_MAX} ord.")
    return hints


class ValidationFailed(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# --------------------------------------------------------------------------- Markdown preview

# A local link is "/path", never "//host" or "/\host" (browsers read a backslash as a slash).
SAFE_HREF = re.compile(r"^(https?://|mailto:|tel:|#|/(?![/\\]))", re.IGNORECASE)
# Browsers drop tabs and line breaks inside a URL ("/<TAB>/evil" is "//evil"): refuse them all.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def render_html(markdown_text: str) -> str:
    """Markdown to HTML that is safe to put in a page: raw HTML is escaped as text, links keep
    only http(s)/mailto/tel/local targets, and images become their alt text."""
    import markdown
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class SafeTree(Treeprocessor):
        def run(self, root: Any) -> None:
            for element in root.iter():
                if element.tag == "a":
                    href = element.get("href", "").strip()
                    element.attrib.clear()
                    if SAFE_HREF.match(href) and not CONTROL_CHARS.search(href):
                        element.set("href", href)
                        element.set("rel", "noopener noreferrer")
                elif element.tag == "img":
                    alt = element.get("alt", "")
                    element.tag, element.text = "span", f"[billede: {alt}]" if alt else "[billede]"
                    element.attrib.clear()

    class Safe(Extension):
        def extendMarkdown(self, md: Any) -> None:
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(SafeTree(md), "safe_tree", 0)

    return str(markdown.markdown(markdown_text, extensions=[Safe(), "sane_lists"]))


# --------------------------------------------------------------------------- files and history


class EmbedderLike(Protocol):
    model_name: str
    fingerprint: str

    def embed_passages(self, texts: list[str]) -> Any: ...


@dataclass(frozen=True)
class Entry:
    """A guide file as the console lists it."""

    key: str
    slug: str
    municipality: str
    state: State
    path: Path
    rel: Path  # relative to its root (guides folder or the unpublished folder)
    form: GuideForm
    guide: Guide | None  # None when the file is invalid
    error: str | None = None  # why, for the CLI and logs ("field: message")
    error_da: str | None = None  # why, for the editor (Danish, the field's label first)

    @property
    def published(self) -> bool:
        return self.state == PUBLISHED


@dataclass(frozen=True)
class Version:
    number: int
    at: datetime  # UTC
    author: str
    author_name: str
    action: str
    state: State
    sha256: str
    rel: str
    restored_from: int | None = None

    @property
    def action_da(self) -> str:
        if self.action == "restored" and self.restored_from:
            return f"gendannet fra version {self.restored_from}"
        return ACTIONS_DA.get(self.action, self.action)


@dataclass(frozen=True)
class Change:
    """The outcome of one console or CLI operation."""

    key: str
    state: State
    changed: bool
    version: Version | None
    build: BuildReport | None = None
    seconds: float = 0.0
    new: bool = False  # the guide did not exist before


@dataclass
class _Op:
    key: str
    text: str | None  # None: keep the current text (publish / unpublish)
    state: State
    action: str
    restored_from: int | None = None


class GuideError(RuntimeError):
    """An operation that cannot be done (unknown guide, duplicate slug, busy lock)."""

    def __init__(self, en: str, da: str) -> None:
        super().__init__(en)
        self.da = da


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha(path: Path) -> str:
    """A guide file's content hash, for the editor's "has anyone saved since?" check."""
    try:
        return _sha(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


def atomic_write(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path, root: Path) -> None:
    """Delete a guide file and the overlay folders it leaves empty, never `root` itself."""
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()  # only succeeds when empty
        except OSError:
            break
        parent = parent.parent


class GuideStore:
    """The guides folder, its unpublished sibling, the history and the index, written together.

    `embedder` is called (once, lazily) when the index must be rebuilt; without one, only the
    files and history are written and `python -m knowledge build` brings the index up to date.
    """

    def __init__(
        self,
        guides_dir: Path,
        data_dir: Path,
        *,
        index_dir: Path | None = None,
        embedder: Callable[[], EmbedderLike] | None = None,
        unpublished_dir: Path | None = None,
        lock_timeout: float = LOCK_TIMEOUT_S,
    ) -> None:
        self.guides_dir = Path(guides_dir)
        self.data_dir = Path(data_dir)
        self.index_dir = index_dir or self.data_dir / "index"
        self.unpublished_dir = unpublished_dir or self.guides_dir.with_name(
            self.guides_dir.name + UNPUBLISHED_SUFFIX
        )
        self.history_dir = self.data_dir / HISTORY_DIR
        self.lock_path = self.data_dir / LOCK_FILE
        self.lock_timeout = lock_timeout
        self._embedder_factory = embedder
        self._embedder: EmbedderLike | None = None

    @classmethod
    def from_settings(
        cls, settings: Any, embedder: Callable[[], EmbedderLike] | None = None
    ) -> GuideStore:
        """From a `KnowledgeSettings`."""
        return cls(settings.guides_dir, settings.data_dir, index_dir=settings.index_dir,
                   embedder=embedder)  # fmt: skip

    def root(self, state: State) -> Path:
        return self.guides_dir if state == PUBLISHED else self.unpublished_dir

    # ------------------------------------------------------------------ reading

    def entries(self) -> list[Entry]:
        """Every guide file, published and unpublished (a published file wins a key clash)."""
        found: dict[str, Entry] = {}
        for state in (PUBLISHED, UNPUBLISHED):
            root = self.root(state)
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*.md")):
                if path.name.lower() == "readme.md" or path.name.startswith("."):
                    continue
                entry = self._read_entry(path, root, state)
                if entry is not None and entry.key not in found:
                    found[entry.key] = entry
        return sorted(found.values(), key=lambda e: (e.slug, e.municipality))

    def _read_entry(self, path: Path, root: Path, state: State) -> Entry | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            form = GuideForm(slug=path.stem)
            return Entry(path.stem, path.stem, NATIONAL, state, path, path.relative_to(root),
                         form, None, f"file: cannot be read ({exc})",
                         f"{LABELS_DA['file']}: {MESSAGES_DA['unreadable']}")  # fmt: skip
        guide: Guide | None
        error = error_da = None
        try:
            guide = parse_guide(text, path)
            form = GuideForm.from_guide(guide)
        except InvalidGuide as exc:
            guide, error = None, f"{exc.field}: {exc}"
            error_da = f"{LABELS_DA.get(exc.field, exc.field)}: {exc.da}"
            form = GuideForm.from_text(text, path)
        slug = guide.slug if guide else path.stem
        municipality = guide.municipality if guide else form.municipality
        if not (municipality == NATIONAL or CODE.match(municipality)):
            municipality = NATIONAL
        if not SLUG.match(slug):
            return None  # a file name no key can name; the loader reports it
        return Entry(guide_key(slug, municipality), slug, municipality, state, path,
                     path.relative_to(root), form, guide, error, error_da)  # fmt: skip

    def get(self, key: str) -> Entry | None:
        return next((e for e in self.entries() if e.key == key), None)

    def history(self, key: str) -> list[Version]:
        """Every version of a guide, newest first."""
        folder = self._history_folder(key)
        if not folder.is_dir():
            return []
        versions = []
        for meta in folder.glob("*.json"):
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
                versions.append(
                    Version(
                        number=int(data["version"]),
                        at=datetime.fromisoformat(data["at"]),
                        author=data.get("author", ""),
                        author_name=data.get("author_name", ""),
                        action=data.get("action", ""),
                        state=data.get("state", PUBLISHED),
                        sha256=data.get("sha256", ""),
                        rel=data.get("path", ""),
                        restored_from=data.get("restored_from"),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(versions, key=lambda v: -v.number)

    def version_text(self, key: str, number: int) -> str:
        path = self._history_folder(key) / f"{number:06d}.md"
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise GuideError(f"{key}: no version {number}", "Versionen findes ikke.") from None

    def _history_folder(self, key: str) -> Path:
        parse_key(key)  # never a path from an unchecked string
        return self.history_dir / key

    # ------------------------------------------------------------------ writing

    def save(
        self,
        form: GuideForm,
        author: str,
        *,
        state: State,
        new: bool,
        author_name: str = "",
        base_sha: str | None = None,
    ) -> Change:
        """Create (`new`) or edit a guide and leave it `state`. Raises ValidationFailed.
        `base_sha`: the file's `file_sha` when the editor opened it; if someone else has saved
        since, GuideError (rather than silently overwriting their change)."""
        problems = check_form(form)
        if problems:
            raise ValidationFailed(problems)
        key = form.key
        with self.lock():
            existing = self._entry_unlocked(key)
            if new and existing is not None:
                where = "afpubliceret" if existing.state == UNPUBLISHED else "udgivet"
                raise ValidationFailed([Problem(
                    "slug",
                    f"Der findes allerede en vejledning med denne korte adresse ({where}).",
                    f"a guide {key!r} already exists ({existing.state})",
                )])  # fmt: skip
            if not new and existing is None:
                raise GuideError(f"no guide {key!r}", "Vejledningen findes ikke.")
            if existing is not None and base_sha and file_sha(existing.path) != base_sha:
                raise GuideError(
                    f"{key!r} was changed by someone else meanwhile",
                    "Vejledningen er blevet ændret af en anden, siden du åbnede den. Kopiér din "
                    "tekst, genindlæs siden, og indsæt dine ændringer igen.",
                )
            action = "created" if new else ("published" if state == PUBLISHED else "saved")
            return self._commit([_Op(key, form.to_text(), state, action)], author, author_name)[0]

    def set_state(self, key: str, state: State, author: str, author_name: str = "") -> Change:
        """Publish an unpublished guide or unpublish a published one, text unchanged."""
        with self.lock():
            entry = self._entry_unlocked(key)
            if entry is None:
                raise GuideError(f"no guide {key!r}", "Vejledningen findes ikke.")
            if state == PUBLISHED and entry.error:
                text = entry.path.read_text(encoding="utf-8")
                raise ValidationFailed(check_form(GuideForm.from_text(text, entry.path)) or [
                    Problem("file", f"Filen er ugyldig – {entry.error_da}", entry.error)
                ])  # fmt: skip
            action = "published" if state == PUBLISHED else "unpublished"
            return self._commit([_Op(key, None, state, action)], author, author_name)[0]

    def restore(self, key: str, number: int, author: str, author_name: str = "") -> Change:
        """Write version `number`'s text as a new version; the guide keeps its state. The text
        must pass the same checks as a save (a version file can have been edited outside the
        console, e.g. to hold raw HTML); the problems are named with their fields' labels."""
        text = self.version_text(key, number)
        try:
            guide = parse_guide(text)
        except InvalidGuide as exc:
            label = LABELS_DA.get(exc.field, exc.field)
            raise ValidationFailed([Problem(exc.field, f"{label}: {exc.da}", str(exc))]) from exc
        problems = check_form(GuideForm.from_guide(guide))
        if problems:
            raise ValidationFailed([Problem(p.field, f"{p.label}: {p.da}", p.en) for p in problems])
        if guide_key(guide.slug, guide.municipality) != key:
            raise GuideError(f"version {number} is not of {key!r}", "Versionen hører til en "
                             "anden vejledning.")  # fmt: skip
        with self.lock():
            entry = self._entry_unlocked(key)
            state = entry.state if entry else UNPUBLISHED
            op = _Op(key, text, state, "restored", restored_from=number)
            return self._commit([op], author, author_name)[0]

    def import_texts(
        self,
        items: Iterable[tuple[str, str]],
        author: str,
        *,
        state: State = PUBLISHED,
        dry_run: bool = False,
    ) -> list[Change]:
        """Import (source name, file text) pairs, all or nothing: every text is validated first
        (raises ValidationFailed naming the source), then written with one index rebuild.
        `dry_run`: validate and report what would change, write nothing."""
        problems: list[Problem] = []
        ops: dict[str, _Op] = {}
        for source, text in items:
            try:
                guide = parse_guide(text)
            except InvalidGuide as exc:
                problems.append(Problem(exc.field, f"{source}: {exc.da}", f"{source}: {exc}"))
                continue
            form = GuideForm.from_guide(guide)
            for p in check_form(form):
                problems.append(Problem(p.field, f"{source}: {p.da}", f"{source}: {p.en}"))
            if form.key in ops:
                problems.append(Problem(
                    "slug", f"{source}: dublet af {form.key}",
                    f"{source}: duplicate of {form.key!r} in this import",
                ))  # fmt: skip
            # the file as it was written (its own formatting), with Unix line ends
            ops[form.key] = _Op(form.key, _normalised(text), state, "imported")
        if problems:
            raise ValidationFailed(problems)
        if dry_run:
            changes = []
            for op in ops.values():
                entry = self._entry_unlocked(op.key)
                same = (
                    entry is not None
                    and entry.state == op.state
                    and (entry.path.read_text(encoding="utf-8") == op.text)
                )
                changes.append(Change(op.key, op.state, not same, None, new=entry is None))
            return changes
        with self.lock():
            return self._commit(list(ops.values()), author, "")

    def export(self, target: Path, state: State = PUBLISHED) -> tuple[list[Path], list[str]]:
        """Copy every valid guide of `state` to `target` (same relative paths). Returns the
        written files and the invalid guides left out."""
        written, skipped = [], []
        for entry in self.entries():
            if entry.state != state:
                continue
            if entry.error:
                skipped.append(f"{entry.path}: {entry.error}")
                continue
            out = target / entry.rel
            atomic_write(out, entry.path.read_text(encoding="utf-8"))
            written.append(out)
        return written, skipped

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes and threads (each call opens its own file description)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise GuideError(
                            "another guide change is still running",
                            "En anden ændring af vejledningerne er i gang. Prøv igen om lidt.",
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _entry_unlocked(self, key: str) -> Entry | None:
        slug, municipality = parse_key(key)
        for state in (PUBLISHED, UNPUBLISHED):
            root = self.root(state)
            for path in self._candidate_paths(root, slug, municipality):
                entry = self._read_entry(path, root, state)
                if entry is not None and entry.key == key:
                    return entry
        return None

    def _candidate_paths(self, root: Path, slug: str, municipality: str) -> list[Path]:
        if not root.is_dir():
            return []
        return sorted(root.rglob(f"{slug}.md"))

    def _default_rel(self, key: str) -> Path:
        slug, municipality = parse_key(key)
        if municipality == NATIONAL:
            return Path(f"{slug}.md")
        return Path(OVERLAY_DIR) / municipality / f"{slug}.md"

    def _commit(self, ops: list[_Op], author: str, author_name: str) -> list[Change]:
        """Under the lock: write the files, rebuild the index if the live set changed (rolling
        the files back if that fails), then append the versions."""
        started = time.monotonic()
        undo: list[tuple[Path, Path, str | None]] = []  # (root, path, text before) for rollback
        planned: list[tuple[_Op, str, Path, bool, bool]] = []
        live_changed = False
        try:
            for op in ops:
                entry = self._entry_unlocked(op.key)
                old_text = entry.path.read_text(encoding="utf-8") if entry else None
                text = op.text if op.text is not None else old_text
                if text is None:
                    raise GuideError(f"no guide {op.key!r}", "Vejledningen findes ikke.")
                rel = entry.rel if entry else self._default_rel(op.key)
                target = self.root(op.state) / rel
                changed = entry is None or entry.state != op.state or old_text != text
                if entry is not None and changed:
                    self._record_external(op.key, entry, old_text or "")
                if changed:
                    before = target.read_text(encoding="utf-8") if target.exists() else None
                    undo.append((self.root(op.state), target, before))
                    atomic_write(target, text)
                    if entry is not None and entry.path != target:
                        undo.append((self.root(entry.state), entry.path, old_text))
                        _remove(entry.path, self.root(entry.state))
                    live_changed |= op.state == PUBLISHED or (
                        entry is not None and entry.state == PUBLISHED
                    )
                planned.append((op, text, target, changed, entry is None))
            build = self._reindex() if live_changed else None
        except BaseException:
            for root, path, before in reversed(undo):
                if before is None:
                    _remove(path, root)
                else:
                    atomic_write(path, before)
            raise
        seconds = time.monotonic() - started
        changes = []
        for op, text, target, changed, new in planned:
            version = None
            if changed:
                rel = target.relative_to(self.root(op.state))
                version = self._append_version(op, text, str(rel), author, author_name)
            changes.append(Change(op.key, op.state, changed, version, build, seconds, new))
        return changes

    def _reindex(self) -> BuildReport | None:
        if self._embedder_factory is None:
            return None
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        embedder = self._embedder
        guide_set = load_guides(self.guides_dir)
        if not guide_set.guides:
            raise GuideError("no valid guides left to index",
                             "Der skal være mindst én udgivet vejledning.")  # fmt: skip
        return build_index(
            guide_set.guides, self.index_dir, embedder.embed_passages,
            model=embedder.model_name, fingerprint=embedder.fingerprint,
        )  # fmt: skip

    def _latest_sha(self, key: str) -> str | None:
        versions = self.history(key)
        return versions[0].sha256 if versions else None

    def _record_external(self, key: str, entry: Entry, text: str) -> None:
        """The file as it is now, if the history does not hold it (first edit in the console of
        a starter guide, or a change made in git): so it can be restored later."""
        if self._latest_sha(key) == _sha(text):
            return
        at = datetime.fromtimestamp(entry.path.stat().st_mtime, UTC)
        self._append_version(_Op(key, text, entry.state, "external"), text, str(entry.rel),
                             "", "", at=at)  # fmt: skip

    def _append_version(
        self, op: _Op, text: str, rel: str, author: str, author_name: str,
        at: datetime | None = None,
    ) -> Version:  # fmt: skip
        folder = self._history_folder(op.key)
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()]
        number = max(numbers, default=0) + 1
        version = Version(
            number=number, at=(at or datetime.now(UTC)).replace(microsecond=0), author=author,
            author_name=author_name, action=op.action, state=op.state, sha256=_sha(text),
            rel=rel, restored_from=op.restored_from,
        )  # fmt: skip
        atomic_write(folder / f"{number:06d}.md", text)
        meta = {
            "version": number, "at": version.at.isoformat(), "author": author,
            "author_name": author_name, "action": op.action, "state": op.state,
            "sha256": version.sha256, "path": rel, "restored_from": op.restored_from,
        }  # fmt: skip
        atomic_write(folder / f"{number:06d}.json",
                     json.dumps(meta, ensure_ascii=False, indent=1) + "\n")  # fmt: skip
        return version


def _normalised(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
