"""Dense ANN index over item vectors (``faiss`` HNSW, inner product on unit vectors).

Malkov & Yashunin, *Efficient and robust approximate nearest neighbor search using
Hierarchical Navigable Small World graphs*, TPAMI 2018. Items are keyed by their dense row
in the catalog. :meth:`DenseIndex.upsert` is incremental: new vectors are appended to the
graph; a replaced item's old graph node becomes a tombstone that searches skip, and the
graph is rebuilt only once tombstones exceed a quarter of the live nodes. The vectors are
also kept as a matrix, so exact scores of any candidate are a dot product.

(usearch was the first choice, but it loads its SIMD library with ``RTLD_GLOBAL`` and
that library shadows a number-formatting symbol LightGBM needs: models could no longer be
trained or loaded in the same process.)

Examples
--------
>>> import numpy as np
>>> index = DenseIndex().upsert(np.arange(3), np.eye(3, 4, dtype=np.float32))
>>> index.search(np.array([0, 1, 0, 0], dtype=np.float32), k=1)[0].tolist()
[1]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopmind.errors import InputError, NotFittedError

_REBUILD_SHARE = 0.25  # tombstones / live nodes that trigger a rebuild


class DenseIndex:
    """Cosine ANN (HNSW) over float32 unit vectors, upserted by catalog row.

    Parameters
    ----------
    connectivity : int, default 32
        HNSW graph degree (M).
    expansion_add, expansion_search : int
        Candidate list sizes while building and searching (recall vs speed).
    """

    def __init__(self, *, connectivity: int = 32, expansion_add: int = 80,
                 expansion_search: int = 128) -> None:
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search

    def _new_graph(self, dim: int) -> Any:
        import faiss  # optional dependency of the search extra

        graph = faiss.IndexHNSWFlat(dim, self.connectivity, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.expansion_add
        graph.hnsw.efSearch = self.expansion_search
        return graph

    def upsert(self, rows: np.ndarray, vectors: np.ndarray) -> DenseIndex:
        """Insert or replace the vectors of catalog ``rows``; returns ``self``."""
        rows = np.asarray(rows, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(rows):
            raise InputError(f"vectors must be (len(rows), d), got {vectors.shape} for "
                             f"{len(rows)} rows")
        if not hasattr(self, "graph_"):
            self.graph_ = self._new_graph(vectors.shape[1])
            self.vectors_ = np.zeros((0, vectors.shape[1]), dtype=np.float32)
            self.node_row_ = np.zeros(0, dtype=np.int64)  # graph node → row, −1 = tombstone
            self.row_node_ = np.zeros(0, dtype=np.int64)  # row → graph node, −1 = none
        if len(rows) == 0:
            return self
        size = max(len(self.vectors_), int(rows.max()) + 1)
        if size > len(self.vectors_):
            grow = size - len(self.vectors_)
            self.vectors_ = np.concatenate(
                [self.vectors_, np.zeros((grow, self.vectors_.shape[1]), np.float32)])
            self.row_node_ = np.concatenate([self.row_node_, np.full(grow, -1, np.int64)])
        old = self.row_node_[rows]
        self.node_row_[old[old >= 0]] = -1
        self.row_node_[rows] = -1
        self.vectors_[rows] = vectors
        keep = np.abs(vectors).sum(axis=1) > 0  # empty text → zero vector: not searchable
        self._add(rows[keep])
        if (self.node_row_ < 0).sum() > _REBUILD_SHARE * max((self.node_row_ >= 0).sum(), 1):
            self._rebuild()
        return self

    def _add(self, rows: np.ndarray) -> None:
        start = self.graph_.ntotal
        self.graph_.add(self.vectors_[rows])
        self.node_row_ = np.concatenate([self.node_row_, rows])
        self.row_node_[rows] = np.arange(start, start + len(rows))

    def _rebuild(self) -> None:
        live = self.node_row_[self.node_row_ >= 0]
        self.graph_ = self._new_graph(self.vectors_.shape[1])
        self.node_row_ = np.zeros(0, dtype=np.int64)
        self.row_node_[:] = -1
        self._add(live)

    def search(self, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the ``k`` nearest items to one query vector."""
        if not hasattr(self, "graph_"):
            raise NotFittedError("DenseIndex is empty; upsert vectors first")
        if len(self) == 0 or not np.any(query):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        dead = int((self.node_row_ < 0).sum())
        want = min(k + dead, self.graph_.ntotal)
        scores, nodes = self.graph_.search(
            np.asarray(query, dtype=np.float32).reshape(1, -1), want)
        nodes, scores = nodes[0], scores[0]
        valid = nodes >= 0
        rows = self.node_row_[nodes[valid]]
        live = rows >= 0
        return rows[live][:k], scores[valid][live][:k]

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine of one query vector with the items at ``rows``."""
        return self.vectors_[rows] @ np.asarray(query, dtype=np.float32)

    def __len__(self) -> int:
        return int((self.node_row_ >= 0).sum()) if hasattr(self, "node_row_") else 0
