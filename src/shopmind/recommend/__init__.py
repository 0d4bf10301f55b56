"""Recommendation: models behind one protocol, a two-stage pipeline, rules and explanations."""

from shopmind.recommend.base import (
    Histories,
    Recommender,
    TrainingData,
    available_models,
    create_model,
    register,
)

__all__ = [
    "Histories",
    "Recommender",
    "TrainingData",
    "available_models",
    "create_model",
    "register",
]
