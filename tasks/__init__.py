"""Prefect tasks: thin adapters, one pure call each, retries on I/O only.

Pure helpers (no Prefect import) live in `tasks.plan`, `tasks.exporting`, `tasks.plotting` and
`tasks.jsonlog`; the `@task` wrappers live in `tasks.data`, `tasks.solving`, `tasks.records`,
`tasks.files` and `tasks.artifacts`.
"""
