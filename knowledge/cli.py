"""`python -m knowledge build | ask | eval | calibrate | import | export` — developer/operator
commands (English)."""

from __future__ import annotations

import argparse
import getpass
import itertools
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.settings import KnowledgeSettings

if TYPE_CHECKING:
    from knowledge.calibration import ModeCalibration, Scored
    from knowledge.embedder import Embedder
    from knowledge.search import KnowledgeBase, Mode

log = logging.getLogger("knowledge")


def _settings() -> KnowledgeSettings:
    return KnowledgeSettings.from_env()


def _embedder(settings: KnowledgeSettings) -> Embedder:
    from knowledge.embedder import Embedder
    from knowledge.model import resolve_model

    return Embedder(resolve_model(settings))


def _model_fingerprint(settings: KnowledgeSettings) -> str:
    """The model's fingerprint without loading it (enough to tell whether the index is current)."""
    from knowledge.model import model_fingerprint, resolve_model

    return model_fingerprint(resolve_model(settings))


def cmd_build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from knowledge.authoring import GuideError, GuideStore
    from knowledge.guides import GuideSet, load_guides
    from knowledge.index import build_index, current_version, index_is_current

    settings = _settings()
    store = GuideStore.from_settings(settings)

    def report_errors(guide_set: GuideSet) -> int:
        for error in guide_set.errors:
            print(f"skipped guide: {error}", file=sys.stderr)
        return 1 if (args.strict and guide_set.errors) else 0

    def no_guides() -> int:
        print(f"no valid guides in {settings.guides_dir}", file=sys.stderr)
        return 1

    guide_set = load_guides(settings.guides_dir)
    if not guide_set.guides:
        report_errors(guide_set)
        return no_guides()
    if index_is_current(guide_set.guides, settings.index_dir, _model_fingerprint(settings)):
        print(
            f"index {current_version(settings.index_dir)} is current: "
            f"{len(guide_set.guides)} guides, nothing to embed"
        )
        return report_errors(guide_set)
    # Load the model (tens of seconds) before taking the lock, so editors are not kept waiting.
    embedder = _embedder(settings)
    try:
        # The editor console's lock: the guides are read and the index swapped under it, so an
        # editor's publish cannot land between the two and be swapped out by an older build.
        with store.lock():
            guide_set = load_guides(settings.guides_dir)
            status = report_errors(guide_set)
            if not guide_set.guides:
                return no_guides()
            with tqdm(total=None, unit="guide", desc="embedding", disable=args.quiet) as bar:
                report = build_index(
                    guide_set.guides, settings.index_dir, embedder.embed_passages,
                    model=embedder.model_name, fingerprint=embedder.fingerprint,
                    progress=bar.update,
                )  # fmt: skip
    except GuideError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = "built" if report.changed else "is current"
    print(
        f"index {report.version} {state}: {report.guides} guides, {report.passages} passages, "
        f"{report.embedded_guides} embedded, {report.reused_guides} reused, "
        f"{report.seconds:.1f} s"
    )
    return status


def _load_kb(settings: KnowledgeSettings) -> KnowledgeBase:
    from knowledge.search import KnowledgeBase

    return KnowledgeBase(settings.index_dir, _embedder(settings))


def cmd_ask(args: argparse.Namespace) -> int:
    kb = _load_kb(_settings())
    if args.jsonl:
        for line_no, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise ValueError("expected an object with a string 'text'")
            except ValueError as exc:
                print(f"line {line_no}: {exc}", file=sys.stderr)
                out: dict[str, Any] = {"id": None, "error": str(exc)}
            else:
                r = kb.search(item["text"], item.get("municipality"), args.mode)
                out = {
                    "id": item.get("id"),
                    "decision": r.decision,
                    "results": [{"slug": h.slug, "score": h.score} for h in r.results],
                }
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if not args.question:
        print("give a question, or --jsonl to read JSON lines on stdin", file=sys.stderr)
        return 2
    r = kb.search(" ".join(args.question), args.municipality, args.mode)
    print(f"decision: {r.decision}   ({r.latency_ms:.0f} ms, mode {r.mode})")
    if r.decision == "answer" and r.best:
        print(f"\n{r.best.title}\n{r.best.summary}\n{r.best.url}\n")
    elif r.decision == "clarify":
        print("\nMente du ...?\n" + "\n".join(f"  - {h.title} ({h.slug})" for h in r.candidates))
    print("\nranking:")
    for h in r.results:
        print(
            f"  {h.score:7.3f}  dense {h.dense:.3f}  lexical {h.lexical:.3f}  {h.slug}"
            f"  [{h.section}]"
        )
    return 0


def _read_labelled(path: Path) -> list[dict[str, Any]]:
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            item = json.loads(line)
            if "text" not in item or "expect" not in item:
                raise SystemExit(f"{path}:{line_no}: needs 'text' and 'expect'")
            items.append(item)
    return items


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge.calibration import outcome, summarise

    kb = _load_kb(_settings())
    items = _read_labelled(args.file)
    kb.search("opvarmning", None, args.mode)  # warm up caches outside the timing
    scored, outcomes, latencies, top1, top3 = [], [], [], 0, 0
    for item in items:
        started = time.perf_counter()
        r = kb.search(item["text"], item.get("municipality"), args.mode)
        latencies.append((time.perf_counter() - started) * 1000)
        slugs = [h.slug for h in r.results]
        if item["expect"] is not None:
            top1 += slugs[:1] == [item["expect"]]
            top3 += item["expect"] in slugs[:3]
        scored.append(item)
        outcomes.append(outcome(_as_scored(item, r), r.decision, [h.slug for h in r.candidates]))
        if args.verbose and outcomes[-1] not in ("answered_correct", "oos_fallback"):
            print(
                f"  {outcomes[-1]:18} {item['text']!r} -> {r.decision} {slugs[:3]}"
                f" (expected {item['expect']})"
            )
    from knowledge.calibration import Scored

    s = summarise([Scored(i["expect"], [], []) for i in scored], outcomes)
    n_in = s["in_scope"]
    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    print(
        f"mode: {args.mode}   questions: {len(items)} ({n_in} in scope, "
        f"{s['out_of_scope']} out of scope)"
    )
    print(f"  answered-correct              {s['answered_correct_pct']:5.1f} %")
    print(f"  clarified-correct             {s['clarified_correct_pct']:5.1f} %")
    print(f"  answered-or-clarified-correct {s['answered_or_clarified_correct_pct']:5.1f} %")
    print(f"  confidently-wrong             {s['confidently_wrong_pct']:5.1f} %")
    print(f"  missed (fallback)             {s['missed_pct']:5.1f} %")
    print(
        f"  out of scope: correctly-not-answered {s['oos_correctly_not_answered_pct']:5.1f} %,"
        f" clarified {s['oos_clarified_pct']:.1f} %, false-answer "
        f"{s['oos_false_answer_pct']:.1f} %"
    )
    print(f"  top-1 {100 * top1 / max(1, n_in):5.1f} %   top-3 {100 * top3 / max(1, n_in):5.1f} %")
    print(f"  latency per question: median {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms")
    return 0


def _as_scored(item: dict[str, Any], r: Any) -> Scored:
    from knowledge.calibration import Scored

    return Scored(item["expect"], [h.slug for h in r.results], [h.score for h in r.results])


def cmd_calibrate(args: argparse.Namespace) -> int:
    from knowledge.calibration import (
        LEXICAL_WEIGHTS,
        TITLE_WEIGHTS,
        Calibration,
        Scored,
        apply,
        cross_validate,
        file_sha256,
        fit_thresholds,
        mean_reciprocal_rank,
        summarise,
        utility,
    )  # fmt: skip
    from knowledge.search import MODES, TOP_K

    kb = _load_kb(_settings())
    searcher = kb.searcher
    items = _read_labelled(args.file)
    feats = [searcher.features(i["text"], i.get("municipality"), "hybrid") for i in items]

    def scored(mode: Mode, w_lex: float, w_title: float) -> list[Scored]:
        out = []
        for item, f in zip(items, feats, strict=True):
            fused = searcher.fused(f, mode, w_lex, w_title)
            ranked = sorted(f.visible.tolist(), key=lambda i: -fused[i])[:TOP_K]
            out.append(
                Scored(
                    item["expect"],
                    [searcher.index.guides[i].slug for i in ranked],
                    [float(fused[i]) for i in ranked],
                )
            )
        return out

    # Weights: utility after a coarse threshold fit, then MRR; the full fit follows per mode.
    ranking = {}
    for w_lex, w_title in itertools.product(LEXICAL_WEIGHTS, TITLE_WEIGHTS):
        data = scored("hybrid", w_lex, w_title)
        u = utility(apply(data, fit_thresholds(data, resolution=9)))
        ranking[(w_lex, w_title)] = (round(u, 2), round(mean_reciprocal_rank(data), 4))
    w_lex, w_title = max(ranking, key=lambda w: ranking[w])
    print(
        f"chosen weights: lexical {w_lex:g}, title {w_title:g} "
        f"(utility {ranking[(w_lex, w_title)][0]}, MRR {ranking[(w_lex, w_title)][1]})"
    )
    modes: dict[str, ModeCalibration] = {}
    figures: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        data = scored(mode, w_lex, w_title)
        cal = fit_thresholds(data)
        modes[mode] = cal
        figures[mode] = {
            "in_sample": summarise(data, apply(data, cal)),
            "cross_validated_5fold": cross_validate(data),
            "mrr": round(mean_reciprocal_rank(data), 4),
        }
        fi, fc = figures[mode]["in_sample"], figures[mode]["cross_validated_5fold"]
        print(f"{mode:8} {cal}")
        for label, f in (("in-sample", fi), ("5-fold CV", fc)):
            print(
                f"   {label:10} in-scope correct {f['answered_or_clarified_correct_pct']:5.1f} %"
                f" (answered {f['answered_correct_pct']:.1f} %), confidently-wrong "
                f"{f['confidently_wrong_pct']:.1f} %, out-of-scope not answered "
                f"{f['oos_correctly_not_answered_pct']:.1f} %"
            )
    calibration = Calibration(
        lexical_weight=w_lex, title_weight=w_title, modes=modes,
        model_fingerprint=kb.embedder.fingerprint, dev_set_sha256=file_sha256(args.file),
        figures=figures,
    )  # fmt: skip
    if args.dry_run:
        print("dry run: calibration not written")
    else:
        calibration.save()
        print("wrote knowledge/calibration.json")
    return 0


def _guide_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The `.md` files named or found under the given folders (README.md and hidden skipped)."""
    files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*.md"))
                if p.name.lower() != "readme.md"
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(f"{path}: no such file or folder")
    return files, missing


def cmd_import(args: argparse.Namespace) -> int:
    from knowledge.authoring import (
        PUBLISHED,
        UNPUBLISHED,
        GuideError,
        GuideStore,
        ValidationFailed,
    )  # fmt: skip

    settings = _settings()
    files, problems = _guide_files(args.paths)
    items = []
    for path in files:
        try:
            items.append((str(path), path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8 text")
    if problems or not items:
        for problem in problems or [f"no .md guides in {', '.join(map(str, args.paths))}"]:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return 1
    state = UNPUBLISHED if args.unpublished else PUBLISHED
    index = not (args.no_index or args.dry_run)
    store = GuideStore.from_settings(settings, embedder=(lambda: _embedder(settings)) if index
                                     else None)  # fmt: skip
    try:
        changes = store.import_texts(items, args.author, state=state, dry_run=args.dry_run)
    except ValidationFailed as exc:
        for invalid in exc.problems:
            print(f"invalid guide: {invalid.en} ({invalid.field})", file=sys.stderr)
        print(f"nothing imported: {len(exc.problems)} problem(s) in {len(items)} file(s)",
              file=sys.stderr)  # fmt: skip
        return 1
    except GuideError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "would import" if args.dry_run else "imported"
    for c in changes:
        what = "new" if c.new else ("updated" if c.changed else "unchanged")
        print(f"{verb} {c.key}: {what}, {c.state}")
    counted = sum(c.changed for c in changes)
    print(f"{len(changes)} guide(s) checked, {counted} {'to change' if args.dry_run else 'changed'}"
          f" in {store.root(state)}")  # fmt: skip
    build = next((c.build for c in changes if c.build is not None), None)
    if build is not None:
        print(f"index {build.version}: {build.guides} guides, {build.embedded_guides} embedded, "
              f"{build.reused_guides} reused, {build.seconds:.1f} s")  # fmt: skip
    elif counted and state == PUBLISHED and not args.dry_run:
        print("index not rebuilt: run `python -m knowledge build`")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from knowledge.authoring import PUBLISHED, UNPUBLISHED, GuideStore

    settings = _settings()
    store = GuideStore.from_settings(settings)
    state = UNPUBLISHED if args.unpublished else PUBLISHED
    target = args.dir.resolve()
    root = store.root(state).resolve()
    for inside in (settings.guides_dir.resolve(), store.unpublished_dir.resolve()):
        if target == inside or inside in target.parents:
            print(f"error: {args.dir} is inside the guides folder {inside}", file=sys.stderr)
            return 2
    written, skipped = store.export(target, state)
    for problem in skipped:
        print(f"skipped invalid guide: {problem}", file=sys.stderr)
    print(f"exported {len(written)} {state} guide(s) from {root} to {target}")
    return 1 if skipped else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build or update the index from the guides")
    p.add_argument("--strict", action="store_true", help="fail if any guide is invalid")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("ask", help="ask a question (or --jsonl: JSON lines on stdin)")
    p.add_argument("question", nargs="*")
    p.add_argument("--jsonl", action="store_true")
    p.add_argument("--municipality")
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("eval", help="quality and latency figures on a labelled JSONL file")
    p.add_argument("file", type=Path)
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    p.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("calibrate", help="fit the decision thresholds on a labelled JSONL file")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(func=cmd_calibrate)
    p = sub.add_parser("import", help="validate guide files and add or update them")
    p.add_argument("paths", nargs="+", type=Path, metavar="DIR|FILE")
    p.add_argument("--unpublished", action="store_true", help="import as unpublished drafts")
    p.add_argument("--dry-run", action="store_true", help="validate and list, write nothing")
    p.add_argument("--no-index", action="store_true", help="write the files, skip the index")
    p.add_argument("--author", default=f"cli:{getpass.getuser()}", help="name in the history")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", help="copy the valid guides to a folder")
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--unpublished", action="store_true", help="the unpublished guides instead")
    p.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    return int(args.func(args))
