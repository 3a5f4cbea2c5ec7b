"""knowledge.index: versions, incremental rebuilds, atomic swaps and pruning.

A fake deterministic embed function (text hashed to a unit vector) keeps these fast; one slow test
builds with the real embedder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.calibration import Calibration
from knowledge.guides import NATIONAL, load_guides
from knowledge.index import (
    CURRENT,
    KEEP_VERSIONS,
    IndexNotBuilt,
    build_index,
    current_version,
    load_index,
)
from knowledge.passages import split_guide
from knowledge.search import Searcher

FINGERPRINT = "fake-model-1"


def build(guides, index_dir, embed, fingerprint=FINGERPRINT):
    return build_index(guides, index_dir, embed, model="fake", fingerprint=fingerprint)


def changed(guides, slug, suffix):
    """The guides with `slug`'s body (every municipality's) extended by `suffix`."""
    return [
        dataclasses.replace(g, body=f"{g.body}\n\n{suffix}") if g.slug == slug else g
        for g in guides
    ]


def version_dirs(index_dir: Path) -> set[str]:
    return {p.name for p in (index_dir / "versions").iterdir()}


@pytest.fixture
def guides(fixture_guide_set):
    return list(fixture_guide_set.guides)


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


def test_build_writes_a_version_and_current(guides, index_dir, fake_embed):
    report = build(guides, index_dir, fake_embed)

    assert report.changed
    assert report.guides == len(guides) == 6
    assert (report.embedded_guides, report.reused_guides) == (6, 0)
    assert len(fake_embed.calls) == 6  # one call per guide
    link = index_dir / CURRENT
    assert link.is_symlink()
    assert os.readlink(link) == f"versions/{report.version}"
    assert current_version(index_dir) == report.version
    assert (link / "manifest.json").is_file() and (link / "vectors.faiss").is_file()
    assert version_dirs(index_dir) == {report.version}

    index = load_index(index_dir)
    assert index.version == report.version
    assert index.model == "fake" and index.model_fingerprint == FINGERPRINT
    expected_passages = [p for g in sorted(guides, key=lambda g: g.key) for p in split_guide(g)]
    assert index.passages == expected_passages
    assert report.passages == len(expected_passages)
    assert index.vectors.shape == (len(expected_passages), fake_embed.dim)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)


def test_manifest_records_match_the_guides_and_vectors_the_passages(guides, index_dir, fake_embed):
    build(guides, index_dir, fake_embed)
    index = load_index(index_dir)
    by_key = {g.key: g for g in guides}
    owner = index.passage_guide()
    for position, record in enumerate(index.guides):
        guide = by_key[record.key]
        assert (record.url, record.title, record.summary) == (guide.url, guide.title, guide.summary)
        assert record.content_hash == guide.content_hash()
        assert record.as_guide() == dataclasses.replace(guide, path=None)
        block = slice(record.first_passage, record.first_passage + record.passage_count)
        assert (owner[block] == position).all()
        for passage, vector in zip(index.passages[block], index.vectors[block], strict=True):
            assert passage.slug == record.slug and passage.municipality == record.municipality
            expected = fake_embed.vector(passage.embedding_text(record.title))
            assert np.allclose(vector, expected, atol=1e-6)
    overlay = next(r for r in index.guides if r.key == ("affald-storskrald", "0101"))
    assert overlay.url == "https://www.kk.dk/storskrald"


def test_rebuild_without_changes_is_a_no_op(guides, index_dir, fake_embed, fake_embed_class):
    first = build(guides, index_dir, fake_embed)
    before = version_dirs(index_dir)
    again = fake_embed_class()

    report = build(list(reversed(guides)), index_dir, again)  # order does not matter

    assert not report.changed
    assert report.version == first.version == current_version(index_dir)
    assert (report.embedded_guides, report.reused_guides) == (0, len(guides))
    assert report.passages == first.passages
    assert again.calls == []
    assert version_dirs(index_dir) == before


def test_changing_one_guide_re_embeds_only_that_guide(
    guides, index_dir, fake_embed, fake_embed_class
):
    build(guides, index_dir, fake_embed)
    old = load_index(index_dir)
    edited = changed(guides, "pas-bestil", "Husk at medbringe dit gamle pas.")
    embed = fake_embed_class()

    report = build(edited, index_dir, embed)

    assert report.changed and report.version != old.version
    assert (report.embedded_guides, report.reused_guides) == (1, len(guides) - 1)
    pas = next(g for g in edited if g.slug == "pas-bestil")
    assert embed.calls == [[p.embedding_text(pas.title) for p in split_guide(pas)]]

    new = load_index(index_dir)
    old_blocks = {r.key: old.vectors[r.first_passage : r.first_passage + r.passage_count]
                  for r in old.guides}  # fmt: skip
    for record in new.guides:
        block = new.vectors[record.first_passage : record.first_passage + record.passage_count]
        if record.slug == "pas-bestil":
            assert record.content_hash == pas.content_hash()
            assert "Husk at medbringe dit gamle pas." in record.body
        else:
            assert np.array_equal(block, old_blocks[record.key])  # reused, not recomputed


def test_adding_and_removing_guides(guides, index_dir, fake_embed, fake_embed_class):
    build(guides, index_dir, fake_embed)
    fewer = [g for g in guides if g.slug != "pas-bestil"]
    embed = fake_embed_class()
    report = build(fewer, index_dir, embed)
    assert report.changed
    assert (report.guides, report.embedded_guides, report.reused_guides) == (5, 0, 5)
    assert embed.calls == []
    assert "pas-bestil" not in {g.slug for g in load_index(index_dir).guides}

    report = build(guides, index_dir, embed)
    assert (report.guides, report.embedded_guides, report.reused_guides) == (6, 1, 5)
    assert len(embed.calls) == 1


def test_changed_model_fingerprint_re_embeds_everything(
    guides, index_dir, fake_embed, fake_embed_class
):
    build(guides, index_dir, fake_embed, fingerprint="model-a")
    embed = fake_embed_class()
    report = build(guides, index_dir, embed, fingerprint="model-b")
    assert report.changed
    assert (report.embedded_guides, report.reused_guides) == (len(guides), 0)
    assert len(embed.calls) == len(guides)
    assert load_index(index_dir).model_fingerprint == "model-b"


def test_a_loaded_index_stays_consistent_while_a_new_version_swaps_in(
    guides, index_dir, fake_embed
):
    build(guides, index_dir, fake_embed)
    old = load_index(index_dir)
    old_dir = index_dir / "versions" / old.version
    old_passages = len(old.passages)

    report = build(changed(guides, "mitid-opret", "Ny sektion.\n\n## Ny\nMere tekst."),
                   index_dir, fake_embed)  # fmt: skip

    # The reader's object is untouched and internally consistent.
    assert old.version == old_dir.name != report.version
    assert len(old.passages) == old_passages == old.vectors.shape[0]
    assert sum(g.passage_count for g in old.guides) == old_passages
    assert "Ny sektion." not in next(g for g in old.guides if g.slug == "mitid-opret").body
    # The old version is still on disk for readers that resolved `current` before the swap.
    assert (old_dir / "manifest.json").is_file() and (old_dir / "vectors.faiss").is_file()

    new = load_index(index_dir)
    assert new.version == report.version
    assert len(new.passages) == old_passages + 1 == new.vectors.shape[0]


def test_current_always_resolves_to_a_complete_version_during_builds(guides, index_dir, fake_embed):
    build(guides, index_dir, fake_embed)
    link = index_dir / CURRENT
    stop = threading.Event()
    problems: list[str] = []
    checks, loads = [0], [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                target = os.readlink(link)
            except OSError as exc:  # the link must never be missing
                problems.append(f"current missing: {exc}")
                continue
            version_dir = index_dir / target
            complete = (version_dir / "manifest.json").is_file() and (
                version_dir / "vectors.faiss"
            ).is_file()
            # A version pruned after we resolved it is fine; `current` naming it is not.
            if not complete and os.readlink(link) == target:
                problems.append(f"current -> incomplete {target}")
            checks[0] += 1
            try:
                index = load_index(index_dir)
            except Exception as exc:  # a reader must always get a complete version
                problems.append(f"load failed: {exc!r}")
                continue
            if index.vectors.shape[0] != len(index.passages):
                problems.append(f"inconsistent {index.version}")
            loads[0] += 1

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    versions = []
    try:
        for i in range(25):
            report = build(changed(guides, "pas-bestil", f"Version {i}."), index_dir, fake_embed)
            assert report.changed
            versions.append(report.version)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert problems == []
    assert checks[0] > 0 and loads[0] > 0
    assert len(set(versions)) == 25
    assert current_version(index_dir) == versions[-1]
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".")]
    assert not list(index_dir.glob(f".{CURRENT}-*"))


def test_old_versions_are_pruned(guides, index_dir, fake_embed):
    versions = []
    for i in range(KEEP_VERSIONS + 3):
        versions.append(
            build(changed(guides, "pas-bestil", f"v{i}"), index_dir, fake_embed).version
        )
        time.sleep(0.01)  # distinct directory mtimes, which pruning orders by
    assert version_dirs(index_dir) == set(versions[-KEEP_VERSIONS:])
    assert current_version(index_dir) == versions[-1]


def test_no_index_yet(tmp_path):
    assert current_version(tmp_path) is None
    with pytest.raises(IndexNotBuilt, match="knowledge build"):
        load_index(tmp_path)


def test_index_of_another_format_must_be_rebuilt(guides, index_dir, fake_embed):
    build(guides, index_dir, fake_embed)
    manifest_path = index_dir / CURRENT / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format"] = 999
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexNotBuilt, match="rebuild"):
        load_index(index_dir)


def test_guide_with_a_timestamp_for_updated_can_be_searched(guides_copy, index_dir, fake_embed):
    path = guides_copy / "pas-bestil.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "updated: 2026-11-20", "updated: 2026-11-20 10:00:00"
        ),
        encoding="utf-8",
    )
    guide_set = load_guides(guides_copy)
    assert guide_set.errors == []  # accepted by validation ...
    build(guide_set.guides, index_dir, fake_embed)
    searcher = Searcher(load_index(index_dir), None, Calibration())  # ... but breaks search
    assert searcher.search("nyt pas", mode="lexical").best.slug == "pas-bestil"


@pytest.mark.slow
def test_build_with_the_real_embedder(fixture_guide_set, index_dir, embedder):
    report = build_index(
        fixture_guide_set.guides, index_dir, embedder.embed_passages,
        model=embedder.model_name, fingerprint=embedder.fingerprint,
    )  # fmt: skip
    index = load_index(index_dir)
    assert index.vectors.shape == (report.passages, embedder.dimension)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
    assert index.model_fingerprint == embedder.fingerprint
    again = build_index(
        fixture_guide_set.guides, index_dir, embedder.embed_passages,
        model=embedder.model_name, fingerprint=embedder.fingerprint,
    )  # fmt: skip
    assert not again.changed and again.version == report.version
    national = {g.key for g in fixture_guide_set.guides if g.municipality == NATIONAL}
    assert national <= {g.key for g in index.guides}
