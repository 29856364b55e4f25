# syntax=docker/dockerfile:1.7
# One image for every role: the API (`budget api`), the pipeline (`budget serve`), migrations
# (`budget db upgrade`) and Dask workers (which need the project's code to run its tasks).
# Not built on the development machine (no Docker engine there); see README "Deploy".
# Installs the built wheel with every extra, at the versions of requirements/lock.txt.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: OpenMP runtime LightGBM links against.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# Build the wheel (the same artifact `pip install budget-allocation` gets), with the pinned
# build backend from the lock.
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/lock.txt requirements/lock.txt
RUN pip install -c requirements/lock.txt pip setuptools
COPY . .
RUN pip wheel --no-deps --no-build-isolation -w /dist .

FROM base
WORKDIR /app
COPY requirements/lock.txt /tmp/lock.txt
# Dependencies first (cached while only the code changes): every extra's dependencies at the
# locked versions, resolved from pyproject.toml alone (a stub of the package, removed after).
COPY pyproject.toml README.md /tmp/stub/
RUN pip install -c /tmp/lock.txt pip setuptools \
    && cd /tmp/stub \
    && mkdir -p solvers cli config db migrations tasks flows ml api \
    && pip install -c /tmp/lock.txt --no-build-isolation ".[all]" \
    && pip uninstall -y budget-allocation \
    && rm -rf /tmp/stub
# The package itself: a regular (non-editable) install of the wheel. Paths come from DATA_DIR
# (./data of the working directory by default), never from the package's folder.
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install -c /tmp/lock.txt --no-deps /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --create-home --uid 10001 budget \
    && mkdir -p /app/data \
    && chown -R budget /app/data
ENV DATA_DIR=/app/data

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
