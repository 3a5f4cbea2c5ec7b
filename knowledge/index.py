"""The on-disk index: guide metadata, passages and their vectors in faiss.

Layout under the index directory::

    versions/<id>/manifest.json   guides (metadata + lexical fields) and passages
    versions/<id>/vectors.faiss   one unit vector per passage (inner product = cosine)
    current -> versions/<id>      swapped atomically with a symlink rename

A reader resolves `current` once and reads a complete version; a build never writes into a
version that anyone can see. Rebuilds re-embed only guides whose content changed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge.guides import Guide
from knowledge.passages import Passage, split_guide

FORMAT = 1
KEEP_VERSIONS = 3
CURRENT = "current"


@dataclass(frozen=True)
class GuideRecord:
    """What search needs of a guide, so the running assistant never re-reads guide files."""

    slug: str
    municipality: str
    title: str
    category: str
    owner: str
    url: str
    keywords: list[str]
    summary: str
    body: str
    updated: str
    content_hash: str
    first_passage: int
    passage_count: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.slug, self.municipality)

    def as_guide(self) -> Guide:
        from datetime import date

        return Guide(
            slug=self.slug, title=self.title, category=self.category, owner=self.owner,
            keywords=tuple(self.keywords), url=self.url, municipality=self.municipality,
            updated=date.fromisoformat(self.updated), body=self.body,
        )  # fmt: skip


@dataclass
class IndexData:
    version: str
    model: str
    model_fingerprint: str
    guides: list[GuideRecord]
    passages: list[Passage]
    vectors: np.ndarray  # (n_passages, dim), float32, unit length
    built_at: float

    def passage_guide(self) -> np.ndarray:
        """For each passage, the position of its guide in `guides`."""
        owner = np.empty(len(self.passages), dtype=np.int32)
        for i, g in enumerate(self.guides):
            owner[g.first_passage : g.first_passage + g.passage_count] = i
        return owner


@dataclass(frozen=True)
class BuildReport:
    version: str
    guides: int
    passages: int
    embedded_guides: int
    reused_guides: int
    seconds: float
    changed: bool


class IndexNotBuilt(RuntimeError):
    pass


def current_version(index_dir: Path) -> str | None:
    try:
        return os.readlink(index_dir / CURRENT).split("/")[-1]
    except OSError:
        return None


def load_index(index_dir: Path, attempts: int = 3) -> IndexData:
    """The live version. Should it be pruned while we read it (several builds swapped in
    meanwhile), read the new live version instead."""
    for attempt in range(attempts):
        link = index_dir / CURRENT
        if not link.exists():
            raise IndexNotBuilt(f"no index at {index_dir}; run `python -m knowledge build`")
        version_dir = link.resolve()  # resolve once: later swaps do not affect this read
        try:
            return _load_version(version_dir)
        except (OSError, RuntimeError):  # faiss reports a vanished file as RuntimeError
            if version_dir.exists() or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _load_version(version_dir: Path) -> IndexData:
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise IndexNotBuilt(f"index format {manifest.get('format')} != {FORMAT}; rebuild it")
    index = faiss.read_index(str(version_dir / "vectors.faiss"))
    vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d))
    return IndexData(
        version=version_dir.name,
        model=manifest["model"],
        model_fingerprint=manifest["model_fingerprint"],
        guides=[GuideRecord(**g) for g in manifest["guides"]],
        passages=[Passage(**p) for p in manifest["passages"]],
        vectors=np.ascontiguousarray(vectors, dtype=np.float32),
        built_at=manifest["built_at"],
    )


def _previous_vectors(index_dir: Path, fingerprint: str) -> dict[str, np.ndarray]:
    """Vectors of the current version by guide content hash, if made by the same model."""
    try:
        old = load_index(index_dir)
    except (IndexNotBuilt, OSError, ValueError, KeyError, RuntimeError):  # faiss: RuntimeError
        return {}  # a broken live version is rebuilt from scratch, not a reason to fail
    if old.model_fingerprint != fingerprint:
        return {}
    return {
        g.content_hash: old.vectors[g.first_passage : g.first_passage + g.passage_count]
        for g in old.guides
    }


def index_is_current(guides: Iterable[Guide], index_dir: Path, fingerprint: str) -> bool:
    """True when the live version holds exactly these guides, embedded by this model. Cheap:
    reads the manifest only, so `make run` need not load the model to find nothing to do."""
    link = index_dir / CURRENT
    try:
        manifest = json.loads((link.resolve() / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != FORMAT or manifest.get("model_fingerprint") != fingerprint:
        return False
    indexed = sorted(g["content_hash"] for g in manifest.get("guides", []))
    return indexed == sorted(g.content_hash() for g in guides)


def build_index(
    guides: Iterable[Guide],
    index_dir: Path,
    embed_passages: Callable[[list[str]], np.ndarray],
    *,
    model: str,
    fingerprint: str,
    progress: Callable[[int], Any] | None = None,
) -> BuildReport:
    """Build a new version and swap it in; a no-op when nothing changed."""
    started = time.monotonic()
    guides = sorted(guides, key=lambda g: (g.slug, g.municipality))
    index_dir.mkdir(parents=True, exist_ok=True)
    reuse = _previous_vectors(index_dir, fingerprint)
    hashes = [g.content_hash() for g in guides]
    old_version = current_version(index_dir)
    if old_version and reuse and set(hashes) == set(reuse) and len(hashes) == len(reuse):
        return BuildReport(old_version, len(guides), sum(len(v) for v in reuse.values()), 0,
                           len(guides), time.monotonic() - started, changed=False)  # fmt: skip

    records: list[GuideRecord] = []
    passages: list[Passage] = []
    blocks: list[np.ndarray | None] = []
    to_embed: list[tuple[int, list[str]]] = []
    for guide, content_hash in zip(guides, hashes, strict=True):
        parts = split_guide(guide)
        records.append(GuideRecord(
            slug=guide.slug, municipality=guide.municipality, title=guide.title,
            category=guide.category, owner=guide.owner, url=guide.url,
            keywords=list(guide.keywords), summary=guide.summary, body=guide.body,
            updated=guide.updated.isoformat(), content_hash=content_hash,
            first_passage=len(passages), passage_count=len(parts),
        ))  # fmt: skip
        passages.extend(parts)
        cached = reuse.get(content_hash)
        if cached is not None and len(cached) == len(parts):
            blocks.append(cached)
        else:
            blocks.append(None)
            to_embed.append((len(blocks) - 1, [p.embedding_text(guide.title) for p in parts]))

    for block_no, texts in to_embed:
        blocks[block_no] = embed_passages(texts)
        if progress:
            progress(1)
    dim = next((b.shape[1] for b in blocks if b is not None and b.size), 0)
    vectors = (
        np.vstack([b for b in blocks if b is not None]).astype(np.float32)
        if passages else np.zeros((0, dim), dtype=np.float32)
    )  # fmt: skip

    version = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    versions = index_dir / "versions"
    versions.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=versions))
    try:
        flat = faiss.IndexFlatIP(vectors.shape[1] if vectors.size else max(dim, 1))
        if vectors.size:
            flat.add(vectors)
        faiss.write_index(flat, str(tmp / "vectors.faiss"))
        manifest = {
            "format": FORMAT,
            "model": model,
            "model_fingerprint": fingerprint,
            "built_at": time.time(),
            "guides": [asdict(r) for r in records],
            "passages": [asdict(p) for p in passages],
        }
        with (tmp / "manifest.json").open("w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, versions / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_current(index_dir, version)
    _prune(versions, keep=version)
    return BuildReport(
        version, len(records), len(passages), len(to_embed), len(records) - len(to_embed),
        time.monotonic() - started, changed=True,
    )  # fmt: skip


def _swap_current(index_dir: Path, version: str) -> None:
    tmp_link = index_dir / f".{CURRENT}-{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    os.symlink(f"versions/{version}", tmp_link)
    os.replace(tmp_link, index_dir / CURRENT)  # rename(2) is atomic: readers see old or new


def _prune(versions: Path, keep: str) -> None:
    # Keep a few old versions: a reader that resolved `current` just before the swap may still
    # be reading one of them.
    old = sorted(
        (
            p
            for p in versions.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name != keep
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in old[KEEP_VERSIONS - 1 :]:
        shutil.rmtree(path, ignore_errors=True)
