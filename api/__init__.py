"""REST API (FastAPI) over the same solvers/ and db/ functions the Prefect tasks call.

`create_app()` builds the app; `budget api` serves it with uvicorn. No Prefect import here:
background benchmarks go through `flows.remote`, imported lazily.
"""

from api.app import create_app

__all__ = ["create_app"]
