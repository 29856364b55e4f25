"""REST API tests (named http_api so nothing shadows the `api` package)."""
