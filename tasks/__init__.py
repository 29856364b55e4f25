"""Prefect tasks: thin adapters, one pure call each, retries on I/O only.

Pure helpers (no Prefect import) live in `tasks.plan`, `tasks.exporting`, `tasks.plotting`,
`tasks.summary` and `tasks.jsonlog`; the `@task` wrappers live in `tasks.data`,
`tasks.solving`, `tasks.records`, `tasks.files`, `tasks.artifacts` and `tasks.ml_tasks`.
`tasks._io` holds the retry rule and `db_session` (lost connections → DatabaseUnavailableError).
"""
