# Glassbox for a class: one container serving the web app (`glassbox`: uvicorn with
# GLASSBOX_WORKERS workers on GLASSBOX_HOST:GLASSBOX_PORT), its sessions in the volume
# /app/data:
#
#   docker build -t glassbox .
#   docker run -d --name glassbox -p 8000:8000 -v glassbox-data:/app/data \
#     --stop-timeout 20 glassbox
#
# compose.yaml runs several replicas behind nginx with Redis (docs/deployment.md).

# --- the wheel, built apart: the image gets no sources, tests or build files ---------
FROM python:3.11.15-slim-trixie AS wheel

WORKDIR /src
# What `pip wheel .` reads: the project files and the four folders the wheel carries
# (setup.py maps static/ and templates/ into the app package). .dockerignore keeps
# everything else out of the build context.
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY app app
COPY engine engine
COPY static static
COPY templates templates
# The base image's setuptools (pinned by its tag) builds it: nothing is downloaded.
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation \
    --wheel-dir /wheels .

# --- the image ---------------------------------------------------------------------
FROM python:3.11.15-slim-trixie

# One BLAS thread per worker process (the workers use the cores). HOME is a folder
# every user of group 0 may write, so an arbitrary uid (OpenShift) has one too.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    HOME=/home/glassbox \
    GLASSBOX_HOST=0.0.0.0 \
    GLASSBOX_PORT=8000 \
    GLASSBOX_WORKERS=2 \
    GLASSBOX_STOP_GRACE_S=5 \
    GLASSBOX_DATA_DIR=/app/data

WORKDIR /app

# uid 10001 in group 0: the data folder and HOME belong to 10001:0 and are group-
# writable (setgid: new files stay in group 0), so the image runs as 10001 and also as
# any uid in group 0 (`docker run --user 4242:0`, OpenShift's arbitrary uids).
RUN useradd --uid 10001 --gid 0 --home-dir /home/glassbox --create-home \
        --shell /usr/sbin/nologin glassbox \
    && mkdir -p /app/data \
    && chown 10001:0 /app/data /home/glassbox \
    && chmod 2775 /app/data /home/glassbox

# The dependencies, pinned with their hashes (scripts/lock makes the file), in a layer
# of their own: a change to the code does not reinstall them.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# Then Glassbox alone, its dependencies installed already.
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps /tmp/wheels/glassbox-*.whl \
    && rm -rf /tmp/wheels

USER 10001:0

# Sessions (SQLite) and the workers' metric files. Mount a named volume or a host
# folder here (writable by the user: a start that cannot write it stops at once and
# says why, app/datadir.py), or every session is lost with the container.
VOLUME ["/app/data"]

EXPOSE 8000

# On `docker stop` uvicorn gets SIGTERM: every training stream ends with a "stopping"
# event (its training keeps what it learned), open requests get GLASSBOX_STOP_GRACE_S
# to finish, then it exits. Docker kills it GRACE after SIGTERM (10 s unless `docker
# run --stop-timeout` or compose's stop_grace_period says otherwise): keep that above
# GLASSBOX_STOP_GRACE_S plus a few seconds.
STOPSIGNAL SIGTERM

# Ready means able to serve sessions (/readyz: the store answers), on the address and
# port the server was given; no proxy from the environment is used for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; \
h = os.environ.get('GLASSBOX_HOST') or '127.0.0.1'; \
h = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(h, h); \
h = '[' + h + ']' if ':' in h else h; \
p = os.environ.get('GLASSBOX_PORT') or '8000'; \
u.build_opener(u.ProxyHandler({})).open('http://%s:%s/readyz' % (h, p), timeout=4)"]

# `glassbox` (app/cli.py): uvicorn with GLASSBOX_WORKERS workers, one BLAS thread each,
# an empty metrics folder and --timeout-graceful-shutdown GLASSBOX_STOP_GRACE_S. It
# checks first that the data folder and the store's files are writable: if not (a
# root-owned host folder, a volume last used by another uid) it stops at once, naming
# the folder, the uid and the fix.
CMD ["glassbox"]
