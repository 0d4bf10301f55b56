"""The review router mounted on a small app: sentiment (single, batch, errors) and alerts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopmind.reviews.api import create_reviews_router
from shopmind.reviews.ngram_model import NgramSentiment

ALERT = {"level": "item_id", "group": "i1", "window_start": "2026-01-05T00:00:00+00:00",
         "reviews": 40, "negatives": 20, "negative_share": 0.5, "baseline_share": 0.1,
         "p_value": 1e-6, "message": "item_id i1: 20 of 40 …", "plot": None}


@pytest.fixture
def client(ngram_model: NgramSentiment) -> TestClient:
    models = {"s1": ngram_model}
    alerts: dict[str, list[dict[str, Any]]] = {"s1": [ALERT, {
        **ALERT, "level": "brand", "plot": "/srv/data/reviews/s1/alerts/alert_brand_x.png"}]}
    app = FastAPI()
    app.include_router(create_reviews_router(models.get, lambda shop: alerts.get(shop, [])))
    return TestClient(app)


def test_single_text_is_scrubbed_scored_and_split_into_aspects(client: TestClient) -> None:
    response = client.post("/v1/text/sentiment?shop=s1",
                           json={"text": "质量太差了，客服电话13812345678也不接"})
    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "negative" and 0 <= body["p_positive"] < 0.5
    assert "13812345678" not in body["text"] and "[PHONE]" in body["text"]
    assert {a["aspect"] for a in body["aspects"]} >= {"quality", "service"}
    assert body["language"] == "zh"


def test_batch(client: TestClient) -> None:
    texts = ["Love it, works great", "Terrible. Stopped working after a week, waste of money.",
             "", "😀"]
    response = client.post("/v1/text/sentiment?shop=s1", json={"texts": texts,
                                                               "aspects": False})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["label"] for r in results[:2]] == ["positive", "negative"]
    assert len(results) == 4 and all(r["aspects"] == [] for r in results)


def test_a_lone_surrogate_is_replaced_not_a_500(client: TestClient) -> None:
    response = client.post("/v1/text/sentiment?shop=s1",
                           content='{"texts": ["good \\ud800", "bad \\udfff product"]}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["good ?", "bad ? product"]


@pytest.mark.parametrize("body", [{}, {"text": "a", "texts": ["b"]}, {"texts": "notalist"},
                                  {"texts": ["x"] * 1001}])
def test_bad_requests_are_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/v1/text/sentiment?shop=s1", json=body).status_code == 422


def test_shop_without_a_model_is_503(client: TestClient) -> None:
    response = client.post("/v1/text/sentiment?shop=other", json={"text": "ok"})
    assert response.status_code == 503
    assert "shopmind reviews train" in response.json()["detail"]


def test_alerts_listed_and_filtered(client: TestClient) -> None:
    response = client.get("/v1/alerts?shop=s1")
    assert response.status_code == 200
    assert len(response.json()["alerts"]) == 2
    brand = client.get("/v1/alerts?shop=s1&level=brand").json()["alerts"]
    assert [a["level"] for a in brand] == ["brand"]
    assert brand[0]["plot"] == "alert_brand_x.png"  # no server path
    assert client.get("/v1/alerts?shop=s1&level=nope").status_code == 422
    assert client.get("/v1/alerts?shop=empty").json() == {"alerts": []}
