# syntax=docker/dockerfile:1.7
# One image for every role: the API (`budget api`), the pipeline (`budget serve`), migrations
# (`budget db upgrade`) and Dask workers (which need the project's code to run its tasks).
# Not built on the development machine (no Docker engine there); see README "Deploy".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: OpenMP runtime LightGBM links against.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first (cached while only the code changes): install from pyproject.toml alone.
COPY pyproject.toml README.md ./
RUN mkdir -p solvers cli config db migrations tasks flows ml api \
    && pip install . \
    && pip uninstall -y budget-allocation
COPY . .
# Editable, so settings find the repository root (/app) for data/ and an optional .env.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 budget \
    && mkdir -p /app/data \
    && chown -R budget /app/data

# Secrets: when DATABASE_URL is not given, build it from the Docker secret holding the password
# (URL-quoted), so the password never sits in an environment file or `docker inspect`.
COPY --chmod=755 <<'SH' /usr/local/bin/budget-entrypoint
#!/bin/sh
set -eu
if [ -z "${DATABASE_URL:-}" ] && [ -f "${POSTGRES_PASSWORD_FILE:-/run/secrets/postgres_password}" ]; then
  pw=$(python -c 'import sys, urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read().strip(), safe=""))' \
       "${POSTGRES_PASSWORD_FILE:-/run/secrets/postgres_password}")
  export DATABASE_URL="postgresql+psycopg2://${POSTGRES_USER:-budget}:${pw}@${POSTGRES_HOST:-db}:${POSTGRES_PORT:-5432}/${POSTGRES_DB:-budget}"
fi
exec "$@"
SH

USER budget
ENV API_HOST=0.0.0.0 API_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)" || exit 1
ENTRYPOINT ["budget-entrypoint"]
CMD ["budget", "api"]
