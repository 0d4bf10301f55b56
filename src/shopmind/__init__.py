"""ShopMind: an open-source AI personalization and marketing engine for e-commerce."""

__version__ = "0.1.0"
