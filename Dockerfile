# Holdfast in a container: `docker compose up` (compose.yaml) with a .env beside it.
# Installs exactly what `make run` installs, from the hash-locked requirements/run.txt.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH \
    DATABASE_PATH=/data/holdfast.sqlite3 \
    MPLCONFIGDIR=/tmp/matplotlib

# A user of its own, and the database (with its key file) on a volume only it can read.
RUN groupadd --system holdfast \
    && useradd --system --gid holdfast --home-dir /data --no-create-home --shell /usr/sbin/nologin holdfast \
    && mkdir -p /data \
    && chown holdfast:holdfast /data \
    && chmod 0700 /data

WORKDIR /app
RUN python -m venv /app/.venv && /app/.venv/bin/python -m pip install --quiet --upgrade pip
COPY requirements/run.txt requirements/run.txt
RUN /app/.venv/bin/python -m pip install --quiet --require-hashes -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY bot bot
COPY cogs cogs
COPY migrations migrations
RUN /app/.venv/bin/python -m pip install --quiet --no-deps -e .

USER holdfast
VOLUME ["/data"]

# Healthy: a fresh heartbeat, connected to Discord, no delivery long overdue.
HEALTHCHECK --interval=30s --timeout=15s --start-period=90s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "bot", "health"]

# SIGTERM (docker stop) shuts down cleanly: a send in flight finishes and is recorded.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/.venv/bin/python", "-m", "bot"]
CMD ["run"]
