# One image for every orderhub service in docker-compose.yml: the Dagster webserver and daemon,
# the code server (which also runs the runs), and the sandbox ERP.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    HUB_DATA_DIR=/var/lib/orderhub \
    HUB_PARTNERS_DIR=/opt/orderhub/mappings/partners

WORKDIR /opt/orderhub

# .dockerignore keeps the venv, local state and secrets out of the build context.
COPY . .
RUN pip install .

# Instance configuration: PostgreSQL storage and the run queue (proven by
# tests/test_infra_dagster_postgres.py); the workspace points at the `code` service.
COPY dagster_home/dagster.postgres.yaml ${DAGSTER_HOME}/dagster.yaml
COPY deploy/workspace.yaml /opt/dagster/workspace.yaml
RUN mkdir -p ${DAGSTER_HOME}/storage ${HUB_DATA_DIR}

EXPOSE 3000 4000 8069
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/workspace.yaml"]
