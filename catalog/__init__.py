"""catalog/: the spine — the store (SQLAlchemy Core), content-addressed images, run records."""

__version__ = "0.1.0"
