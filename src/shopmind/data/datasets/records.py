"""Auxiliary records that public data sets carry beside the shop entities.

They are not shop entities (no store table holds them yet), but they are validated exactly
like one: each model below yields its :class:`~shopmind.data.schema.TableSpec` through
:func:`~shopmind.data.schema.table_spec`, and loaders hand their frames to the same
:func:`~shopmind.data.ingest.validate.validate_frame`.

>>> AUXILIARY_TABLES["search_judgments"].key
('judgment_id',)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shopmind.data.schema import Id, LongText, ShortText, TableSpec, table_spec

Label = Annotated[str, StringConstraints(max_length=64)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchJudgment(_Record):
    """A graded (query, item) relevance judgment, for search evaluation.

    ``gain`` is the graded relevance used by nDCG (higher is better); ``label`` keeps the
    source's own grade name where it has one (ESCI's ``E``/``S``/``C``/``I``).
    """

    judgment_id: Id
    query_id: Id
    query: Annotated[str, StringConstraints(min_length=1, max_length=1_000)]
    item_id: Id
    gain: Annotated[float, Field(ge=0, le=100)]
    label: Label | None = None


class CampaignResponse(_Record):
    """One customer's arm and outcome in a randomized marketing campaign (uplift data)."""

    campaign_id: Id
    user_id: Id
    treatment: Label
    control: bool
    visit: bool | None = None
    conversion: bool | None = None
    spend: Annotated[float, Field(ge=0, le=1e9)] | None = None


class ProductQuestion(_Record):
    """A customer question about an item and its answer (product Q&A)."""

    qa_id: Id
    item_id: Id
    question_type: Label | None = None
    answer_type: Label | None = None
    question: LongText
    answer: LongText = ""
    ts: AwareDatetime | None = None


class SentimentLabel(_Record):
    """A review's polarity where the source has a label but no star rating (1 = positive)."""

    review_id: Id
    sentiment: Annotated[int, Field(ge=0, le=1)]


class SupportPolicy(_Record):
    """One customer-service procedure (a subflow of a flow), usable as a retrieval document.

    ``policy`` is the readable text (instructions and numbered steps); ``actions`` is a JSON
    object ``{"sequence": [action ids in order], "steps": [{type, button, text, subtext}]}``.
    """

    policy_id: Id
    flow: Id
    flow_title: ShortText
    title: ShortText
    description: ShortText = ""
    policy: LongText
    actions: dict[str, Any] = Field(default_factory=dict)


#: Auxiliary record tables by name; every loader validates against these specs.
AUXILIARY_TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        table_spec("search_judgments", SearchJudgment, ("judgment_id",)),
        table_spec("campaign_responses", CampaignResponse, ("campaign_id", "user_id")),
        table_spec("product_questions", ProductQuestion, ("qa_id",)),
        table_spec("review_sentiment", SentimentLabel, ("review_id",)),
        table_spec("support_policies", SupportPolicy, ("policy_id",)),
    )
}
