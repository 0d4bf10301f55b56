"""Public data sets: loaders by name that yield canonical frames for the shared validator.

>>> from shopmind.data.datasets import get_dataset, list_datasets
>>> "amazon_beauty" in list_datasets()
True
"""

from shopmind.data.datasets.records import AUXILIARY_TABLES
from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    get_dataset,
    list_datasets,
    register_dataset,
)

__all__ = [
    "AUXILIARY_TABLES",
    "DatasetTable",
    "PublicDataset",
    "get_dataset",
    "list_datasets",
    "register_dataset",
]
