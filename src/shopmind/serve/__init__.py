"""Serving: the HTTP API (FastAPI) over the library, with realtime session state.

``create_app(settings)`` builds the app; ``shopmind serve`` runs it under uvicorn.
"""

from shopmind.serve.app import create_app

__all__ = ["create_app"]
