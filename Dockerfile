# Atelier in one image: the app (UI, REST API, websocket on one port) or the RQ workers, by command.
#   docker build -t atelier .                                  # slim: no OCR, no PDF export
#   docker build -t atelier --build-arg WITH_OCR=1 --build-arg WITH_PDF=1 .
# deploy/compose.yaml runs it with PostgreSQL, Valkey and MinIO; README "Deploy" walks through it.

# Bookworm's postgresql-client is 15: pg_dump for `python -m app.backup` must be as new as the server
# (compose runs PostgreSQL 15). Pin by digest too (python:3.11.14-slim-bookworm@sha256:…) if your registry
# policy wants it.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# npm only fetches Node 22 and Bun (Reflex 0.10 needs node >= 22.22, bun >= 1.4.4; Debian's are older).
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
RUN npm install --no-save --prefix /opt/tools node@22.23.3 bun@1.4.5
RUN python -m venv /opt/venv
COPY requirements.txt constraints.txt /src/
RUN /opt/venv/bin/pip install -q -r /src/requirements.txt -c /src/constraints.txt
COPY . /src
WORKDIR /src
# The frontend is compiled and built here, so its JavaScript packages are in the image: the container
# never needs npm at run time, and the start-up build (`reflex run --env prod`, as `make run` does) is a
# local rebuild. Compiling evaluates the pages' initial state, which reads the database: a throwaway
# migrated SQLite under /tmp serves it, and nothing of it stays in the image.
RUN export PATH=/opt/tools/node_modules/.bin:/opt/venv/bin:$PATH REFLEX_USE_SYSTEM_BUN=1 \
       REFLEX_CHECK_LATEST_VERSION=0 DATA_DIR=/tmp/build-data \
    && mkdir -p /tmp/build-data \
    && python -m alembic upgrade head \
    && python -m reflex export --frontend-only --no-zip --env prod --loglevel warning \
    && test -d .web/build/client \
    && rm -rf /tmp/build-data

FROM ${PYTHON_IMAGE}
# Optional system tools: Tesseract for OCR in the local image analyzer, LibreOffice Impress for PDF export
# of slide decks. Without them the app says the feature is unavailable.
ARG WITH_OCR=0
ARG WITH_PDF=0
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends postgresql-client \
       $( [ "$WITH_OCR" = 1 ] && echo tesseract-ocr fonts-dejavu-core ) \
       $( [ "$WITH_PDF" = 1 ] && echo libreoffice-impress ) \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 atelier \
    && useradd --system --uid 10001 --gid atelier --home-dir /app --shell /usr/sbin/nologin atelier \
    && mkdir -p /data && chown atelier:atelier /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/tools /app/.tools
COPY --from=build --chown=atelier:atelier /src /app
WORKDIR /app
ENV PATH=/app/.tools/node_modules/.bin:/opt/venv/bin:$PATH \
    DATA_DIR=/data PORT=3000 APP_ENV=production \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_USE_SYSTEM_BUN=1 REFLEX_CHECK_LATEST_VERSION=0 REFLEX_USE_GRANIAN=1 \
    OMP_THREAD_LIMIT=1
USER atelier
VOLUME ["/data"]
EXPOSE 3000
# The start-up rebuild of the frontend takes ~10-20 s before the port answers.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '3000'), timeout=4)"]
# scripts/run.py: migrations, then the app (and WORKERS workers; 0 in compose, where workers are their own
# service running `python scripts/run.py --no-web`). Without REDIS_URL it starts the embedded Redis.
CMD ["python", "scripts/run.py"]
