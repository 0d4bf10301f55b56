"""Hashed character and word n-grams with sublinear TF-IDF: the sparse features of reviews.

Character n-grams (1–4) see Chinese words and English morphology alike; word n-grams (1–2,
jieba words for Chinese) add phrases such as "not good" / "不 推荐". Both are hashed into a
fixed number of buckets (Weinberger et al., ICML 2009), so the only learned state is one IDF
vector — saved as a plain array, no vocabulary pickle — and buckets seen in fewer than
``min_df`` training texts are switched off.

>>> f = NgramFeatures(n_features=2**12).fit(["very good", "very bad", "good"])
>>> f.transform(["good"]).shape
(1, 8192)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from shopmind.errors import NotFittedError
from shopmind.reviews.text import tokens


class NgramFeatures:
    """Sparse (n, 2 · ``n_features``) features: hashed char + word n-grams, TF-IDF, L2.

    Parameters
    ----------
    n_features : int, default 2**20
        Buckets per block (character block, then word block).
    char_ngrams, word_ngrams : tuple of int
        Inclusive n-gram length ranges.
    min_df : int, default 2
        Buckets seen in fewer training texts get weight 0 (typos, one-off names).
    """

    def __init__(self, *, n_features: int = 2**20, char_ngrams: tuple[int, int] = (1, 4),
                 word_ngrams: tuple[int, int] = (1, 2), min_df: int = 2) -> None:
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.idf_: np.ndarray | None = None

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        common = {"n_features": self.n_features, "alternate_sign": False, "norm": None,
                  "lowercase": False, "dtype": np.float32}
        chars = HashingVectorizer(analyzer="char", ngram_range=tuple(self.char_ngrams),
                                  **common).transform(texts)
        words = HashingVectorizer(tokenizer=tokens, token_pattern=None, preprocessor=None,
                                  ngram_range=tuple(self.word_ngrams), **common
                                  ).transform(texts)
        counts = sp.hstack([chars, words], format="csr", dtype=np.float32)
        counts.data = np.log1p(counts.data)  # sublinear TF
        return counts

    def fit(self, texts: Sequence[str]) -> NgramFeatures:
        """Learn IDF, ``log((1 + n) / (1 + df)) + 1``, zero below ``min_df``; returns self."""
        self.idf_ = None
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = self._counts(texts)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
        idf[df < self.min_df] = 0.0
        self.idf_ = idf.astype(np.float32)
        return _weigh(counts, self.idf_)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Features of normalized texts (see :func:`shopmind.reviews.text.normalize`)."""
        if self.idf_ is None:
            raise NotFittedError("NgramFeatures.transform called before fit")
        return _weigh(self._counts(texts), self.idf_)


def _weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    weighted = counts.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    return sp.diags(1.0 / np.maximum(norms, 1e-12)).dot(weighted).tocsr().astype(np.float32)
