"""Guides: Markdown files with YAML front matter, validated on load.

A guide that fails validation is reported (file and field named) and skipped; the rest load.
A guide with `municipality: <code>` overrides the national guide with the same slug (or adds a new
one) for that municipality only; such overlays may live in any sub-folder of the guides folder.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

NATIONAL = "*"
REQUIRED_FIELDS = (
    "title",
    "slug",
    "category",
    "owner",
    "keywords",
    "url",
    "municipality",
    "updated",
)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    category: str
    owner: str
    keywords: tuple[str, ...]
    url: str
    municipality: str
    updated: date
    body: str
    path: Path | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.slug, self.municipality)

    @property
    def summary(self) -> str:
        """The first paragraph: the guide's own short answer."""
        for block in re.split(r"\n\s*\n", self.body.strip()):
            if block.strip() and not block.lstrip().startswith("#"):
                return " ".join(block.split())
        return ""

    def content_hash(self) -> str:
        """Changes whenever anything the index uses changes."""
        text = "\x1f".join(
            [self.slug, self.title, self.category, self.owner, "|".join(self.keywords), self.url,
             self.municipality, self.body]
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class GuideError:
    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


def _has_text(value: str | list) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return any(not isinstance(v, str) or v.strip() for v in value)


# The loader's errors for the editor console, by code: the English message is for the CLI and
# logs; the editor shows the field's Danish label beside these.
MESSAGES_DA = {
    "front_matter_missing": "Filen skal begynde med felterne mellem to linjer med ---.",
    "front_matter_yaml": "Felterne øverst i filen kan ikke læses. Tjek kolon, anførselstegn og "
    "datoer (ÅÅÅÅ-MM-DD).",
    "front_matter_mapping": "Felterne øverst i filen skal stå som navn: værdi.",
    "missing": "Feltet mangler eller er tomt.",
    "not_text": "Feltet skal være tekst.",
    "slug": "Brug kun små bogstaver (a–z), tal og bindestreger, fx «pas-bestil».",
    "slug_file": "Den korte adresse «{slug}» passer ikke til filnavnet «{file}».",
    "keywords": "Søgeordene skal være ord eller udtryk adskilt med komma.",
    "url": "Linket skal begynde med https:// (eller http://) og må ikke indeholde mellemrum.",
    "municipality_quoted": 'Skriv kommunekoden i anførselstegn, fx "0101".',
    "municipality": "Skriv * for alle kommuner eller en kommunekode (bogstaver og tal), fx 0101.",
    "updated": "Skriv datoen som ÅÅÅÅ-MM-DD, fx 2026-11-20.",
    "body": "Skriv vejledningens tekst.",
    "unreadable": "Filen kan ikke læses. Den skal være gemt som UTF-8-tekst.",
}


class InvalidGuide(ValueError):
    """A guide the loader rejects: `field`, an English message (str) and a `code` with its
    Danish wording (`da`) for the editor console."""

    def __init__(self, field_name: str, message: str, code: str, **params: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.params = params

    @property
    def da(self) -> str:
        return MESSAGES_DA[self.code].format(**self.params)


def parse_guide(text: str, path: Path | None = None) -> Guide:
    """Parse and validate one guide; raises InvalidGuide naming the offending field."""
    match = FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise InvalidGuide(
            "front matter", "missing front matter between '---' lines", "front_matter_missing"
        )
    try:
        meta = yaml.safe_load(match[1])
    except (yaml.YAMLError, ValueError) as exc:  # e.g. `updated: 2026-13-01`
        raise InvalidGuide("front matter", f"not valid YAML: {exc}", "front_matter_yaml") from exc
    if not isinstance(meta, dict):
        raise InvalidGuide("front matter", "must be a mapping of fields", "front_matter_mapping")
    for name in REQUIRED_FIELDS:
        value = meta.get(name)
        if value is None or (isinstance(value, str | list) and not _has_text(value)):
            raise InvalidGuide(name, "missing or empty", "missing")
    for name in ("title", "slug", "category", "owner", "url"):
        if not isinstance(meta[name], str):
            raise InvalidGuide(name, "must be text", "not_text")
    slug = meta["slug"].strip()
    if not SLUG.match(slug):
        raise InvalidGuide("slug", f"{slug!r} must be lowercase letters, digits and dashes", "slug")
    if path is not None and path.stem != slug:
        raise InvalidGuide(
            "slug", f"{slug!r} does not match the file name {path.name!r}", "slug_file",
            slug=slug, file=path.name,
        )  # fmt: skip
    keywords = meta["keywords"]
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",")]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise InvalidGuide("keywords", "must be a list of words or phrases", "keywords")
    if not URL.match(meta["url"].strip()):
        raise InvalidGuide("url", f"{meta['url']!r} is not an http(s) address", "url")
    if not isinstance(meta["municipality"], str):
        # YAML reads an unquoted 0101 as the octal number 65: demand quotes rather than guess.
        raise InvalidGuide(
            "municipality", "must be '*' or a quoted code, e.g. \"0101\"", "municipality_quoted"
        )
    municipality = meta["municipality"].strip()
    if municipality != NATIONAL and not CODE.match(municipality):
        raise InvalidGuide(
            "municipality", f"{municipality!r} must be '*' or a municipality code", "municipality"
        )
    updated = meta["updated"]
    if isinstance(updated, datetime):
        updated = updated.date()  # `2026-11-20 10:00` is a datetime in YAML; the day is enough
    if isinstance(updated, str):
        try:
            updated = date.fromisoformat(updated)
        except ValueError as exc:
            raise InvalidGuide(
                "updated", f"{updated!r} is not an ISO date (YYYY-MM-DD)", "updated"
            ) from exc
    if not isinstance(updated, date):
        raise InvalidGuide("updated", "must be an ISO date (YYYY-MM-DD)", "updated")
    body = match[2].strip()
    if not body:
        raise InvalidGuide("body", "the guide has no text", "body")
    extra = {k: v for k, v in meta.items() if k not in REQUIRED_FIELDS}
    return Guide(
        slug=slug,
        title=meta["title"].strip(),
        category=meta["category"].strip(),
        owner=meta["owner"].strip(),
        keywords=tuple(k.strip() for k in keywords if k.strip()),
        url=meta["url"].strip(),
        municipality=municipality,
        updated=updated,
        body=body,
        path=path,
        extra=extra,
    )


@dataclass
class GuideSet:
    guides: list[Guide]
    errors: list[GuideError]

    def by_key(self) -> dict[tuple[str, str], Guide]:
        return {g.key: g for g in self.guides}

    def slugs(self) -> set[str]:
        return {g.slug for g in self.guides}


def load_guides(directory: Path) -> GuideSet:
    """Load every `*.md` under `directory`; invalid ones and duplicates go to `errors`."""
    guides: list[Guide] = []
    errors: list[GuideError] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(directory.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            guide = parse_guide(path.read_text(encoding="utf-8"), path)
        except UnicodeDecodeError:
            errors.append(GuideError(path, "file", "not UTF-8 text"))
            continue
        except InvalidGuide as exc:
            errors.append(GuideError(path, exc.field, str(exc)))
            continue
        if guide.key in seen:
            errors.append(
                GuideError(path, "slug", f"duplicate of {seen[guide.key]} for this municipality")
            )
            continue
        seen[guide.key] = path
        guides.append(guide)
    return GuideSet(guides=guides, errors=errors)


def visible_guides(guides: list[Guide], municipality: str | None) -> list[Guide]:
    """National guides, with a municipality's own guides replacing or adding to them."""
    chosen = {g.slug: g for g in guides if g.municipality == NATIONAL}
    if municipality and municipality != NATIONAL:
        chosen.update({g.slug: g for g in guides if g.municipality == municipality})
    return list(chosen.values())
