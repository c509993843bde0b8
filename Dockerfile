# Glassbox: one container serving the web app on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    GLASSBOX_HOST=0.0.0.0 \
    GLASSBOX_PORT=8000 \
    GLASSBOX_DATA_DIR=/app/data

WORKDIR /app

RUN groupadd --gid 10001 glassbox \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin glassbox

# The pinned, hash-checked dependencies first (scripts/lock makes the file), in their
# own layer so a code change does not reinstall them; then Glassbox alone.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/data \
    && chown glassbox:glassbox /app/data

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# scripts/serve: uvicorn with its workers, one BLAS thread each and an empty metrics
# directory (/metrics sums the workers), as scripts/run serves it outside a container.
ENV GLASSBOX_HOST=0.0.0.0 GLASSBOX_PORT=8000
CMD ["scripts/serve"]
