"""HTTP routes of review intelligence: ``POST /v1/text/sentiment`` and ``GET /v1/alerts``.

:func:`create_reviews_router` builds the router from two providers (shop → fitted model,
shop → alerts) and a dependency that names the request's shop, so the app factory can pass
its API-key dependency (``lambda key: key.shop_id``) and its own model cache. Without
them the router reads the shop from ``?shop=`` (default: the settings' shop) and loads
models and alerts from the data directory (:func:`file_providers`).

Text is PII-scrubbed before it is scored and before it is echoed back. (No ``from
__future__ import annotations`` here: FastAPI must see the handlers' real annotations,
which refer to the factory's local ``Shop`` dependency.)
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from shopmind.config import get_settings
from shopmind.reviews.alerts import load_alerts
from shopmind.reviews.analyze import reviews_dir, sentiment_model_dir
from shopmind.reviews.aspects import aspect_sentiment
from shopmind.reviews.base import SentimentModel, load_model
from shopmind.reviews.text import encodable, language
from shopmind.text.pii import scrub_all

MAX_TEXTS = 1_000
ModelProvider = Callable[[str], SentimentModel | None]
AlertsProvider = Callable[[str], list[dict[str, Any]]]


class SentimentIn(BaseModel):
    """One ``text`` or a batch of ``texts`` (not both)."""

    text: str | None = Field(default=None, description="A single text.")
    texts: list[str] | None = Field(default=None, max_length=MAX_TEXTS,
                                    description=f"Up to {MAX_TEXTS} texts.")
    aspects: bool = Field(default=True, description="Also return per-aspect sentiment.")

    @model_validator(mode="after")
    def _one_of(self) -> "SentimentIn":
        if (self.text is None) == (self.texts is None):
            raise ValueError("send exactly one of `text` (a string) or `texts` (a list)")
        return self


class AspectOut(BaseModel):
    aspect: str
    p_positive: float
    label: Literal["positive", "negative"]


class SentimentOut(BaseModel):
    text: str = Field(description="The input with PII replaced by [PHONE], [EMAIL] …")
    language: str
    p_positive: float
    label: Literal["positive", "negative"]
    aspects: list[AspectOut] = Field(default_factory=list)


class SentimentBatchOut(BaseModel):
    model: str
    results: list[SentimentOut]


class AlertOut(BaseModel):
    level: str
    group: str
    window_start: str
    reviews: int
    negatives: int
    negative_share: float
    baseline_share: float
    p_value: float
    message: str
    plot: str | None = Field(None, description="File name of the alert's trend plot in the "
                             "shop's reviews/alerts folder (the server's paths stay private)")


class AlertsOut(BaseModel):
    alerts: list[AlertOut]


def default_shop(shop: Annotated[str | None, Query(max_length=64)] = None) -> str:
    """The ``shop`` query parameter, else the settings' default shop."""
    return shop or get_settings().default_shop


def file_providers(data_dir: Path | None = None) -> tuple[ModelProvider, AlertsProvider]:
    """Providers reading ``DATA_DIR``: models cached per shop, reloaded when retrained."""
    cache: dict[str, tuple[float, SentimentModel]] = {}
    lock = threading.Lock()

    def folder() -> Path:
        return data_dir or get_settings().data_dir

    def model(shop: str) -> SentimentModel | None:
        path = sentiment_model_dir(folder(), shop) / "model.json"
        if not path.is_file():
            return None
        stamp = path.stat().st_mtime
        with lock:
            if shop not in cache or cache[shop][0] != stamp:
                cache[shop] = (stamp, load_model(path.parent))
            return cache[shop][1]

    def alerts(shop: str) -> list[dict[str, Any]]:
        return load_alerts(reviews_dir(folder(), shop))

    return model, alerts


def score_texts(model: SentimentModel, texts: list[str], with_aspects: bool
                ) -> list[SentimentOut]:
    """Scrub, score and (optionally) split into aspects; the body of the sentiment route."""
    clean = scrub_all([encodable(t) for t in texts])  # a lone surrogate: '?'
    proba = model.predict_proba(clean)
    cut = model.threshold_
    found: dict[str, list[AspectOut]] = {}
    if with_aspects:
        frame = aspect_sentiment([str(i) for i in range(len(clean))], clean,
                                 model.predict_proba)
        for rid, aspect, p in frame.select("review_id", "aspect", "p_positive").iter_rows():
            found.setdefault(rid, []).append(AspectOut(
                aspect=aspect, p_positive=round(p, 4),
                label="positive" if p >= cut else "negative"))
    return [SentimentOut(text=t, language=language(t), p_positive=round(float(p), 4),
                         label="positive" if p >= cut else "negative",
                         aspects=found.get(str(i), []))
            for i, (t, p) in enumerate(zip(clean, proba, strict=True))]


def create_reviews_router(model_for_shop: ModelProvider | None = None,
                          alerts_for_shop: AlertsProvider | None = None,
                          shop_dependency: Callable[..., str] = default_shop) -> APIRouter:
    """The review-intelligence router (mount it on the app; prefix ``/v1``)."""
    if model_for_shop is None or alerts_for_shop is None:
        model_default, alerts_default = file_providers()
        model_for_shop = model_for_shop or model_default
        alerts_for_shop = alerts_for_shop or alerts_default
    get_model, get_alerts = model_for_shop, alerts_for_shop
    Shop = Annotated[str, Depends(shop_dependency)]
    router = APIRouter(prefix="/v1", tags=["reviews"])

    @router.post("/text/sentiment", response_model=SentimentBatchOut | SentimentOut)
    async def sentiment(body: SentimentIn, shop: Shop) -> SentimentBatchOut | SentimentOut:
        """Sentiment (and per-aspect sentiment) of one text or a batch."""
        model = await run_in_threadpool(get_model, shop)
        if model is None:
            raise HTTPException(503, "this shop has no sentiment model yet; run "
                                     "`shopmind reviews train`")
        texts = [body.text] if body.text is not None else list(body.texts or [])
        results = await run_in_threadpool(score_texts, model, texts, body.aspects)
        if body.text is not None:
            return results[0]
        return SentimentBatchOut(model=model.name, results=results)

    @router.get("/alerts", response_model=AlertsOut)
    async def alerts(shop: Shop, level: Annotated[
            Literal["item_id", "brand", "category"] | None, Query()] = None,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AlertsOut:
        """Opinion alerts (negative-share spikes), newest first."""
        found = await run_in_threadpool(get_alerts, shop)
        chosen = [a for a in found if level is None or a["level"] == level][:limit]
        return AlertsOut(alerts=[AlertOut(**{
            **{k: a[k] for k in AlertOut.model_fields if k in a},
            "plot": Path(a["plot"]).name if a.get("plot") else None}) for a in chosen])

    return router
