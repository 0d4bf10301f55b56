"""One recommender per file; each registers itself by name (see ``recommend.base``)."""
