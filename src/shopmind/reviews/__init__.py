"""Review intelligence: sentiment, aspects, opinion monitoring (舆情监测) and alerts.

Importing the package registers the sentiment models (``ngram``, ``embedding``, ``stack``).
"""

from shopmind.reviews import embedding_model, ngram_model, stack_model
from shopmind.reviews.base import (
    SentimentModel,
    available_models,
    create_model,
    load_model,
)

__all__ = ["SentimentModel", "available_models", "create_model", "embedding_model",
           "load_model", "ngram_model", "stack_model"]
