# syntax=docker/dockerfile:1
# ckad-tutor: build wheels in one stage, run as a non-root user from a slim image.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY ckad_api ./ckad_api
# Wheels for the dependencies only: the app itself runs from /app, where migrations/ and
# content/ sit beside it (the paths the CLI resolves from the package's location).
RUN pip wheel --wheel-dir /wheels . && rm /wheels/ckad_tutor-*.whl

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CKAD_ENV=production \
    CKAD_CONTENT_DIR=/app/content \
    CKAD_DATABASE_URL=sqlite:////data/ckad.db
RUN groupadd --system --gid 10001 ckad \
    && useradd --system --uid 10001 --gid ckad --home-dir /app --shell /usr/sbin/nologin ckad \
    && mkdir -p /data \
    && chown ckad:ckad /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index /wheels/*.whl && rm -rf /wheels
COPY app.py alembic.ini pyproject.toml ./
COPY ckad_api ./ckad_api
COPY migrations ./migrations
COPY content ./content
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# Migrations and content loading run as a separate step before a rollout:
#   docker run --rm IMAGE flask db upgrade && docker run --rm IMAGE flask content load
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "app:app"]
