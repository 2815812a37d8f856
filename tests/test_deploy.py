"""The deployment files: the systemd unit, the compose file, the Dockerfile and the nginx
example, checked with the tools available here (no Docker engine runs here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from tests.support import RUN_ARGS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "regsosek-bot.service"
INSTALLED_PYTHON = "/opt/regsosek-bot/venv/bin/python"


def unit_entries() -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values (a key may repeat), comments and continuations aside."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), " ".join(args.split())))
    return out


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    # verify checks that each command exists: here the interpreter is this test's.
    text = UNIT.read_text(encoding="utf-8")
    assert INSTALLED_PYTHON in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(INSTALLED_PYTHON, sys.executable), encoding="utf-8")
    result = subprocess.run([tool, "verify", str(unit)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert UNIT.name not in result.stderr, result.stderr  # no warning about the unit either


def test_the_unit_migrates_first_runs_the_bot_and_restarts_on_failure() -> None:
    unit = unit_entries()
    service = unit["Service"]
    assert service["ExecStartPre"] == [f"{INSTALLED_PYTHON} -m bot db migrate"]
    assert service["ExecStart"] == [" ".join((INSTALLED_PYTHON, *RUN_ARGS))]
    assert service["Restart"] == ["on-failure"]
    assert service["EnvironmentFile"] == ["/etc/regsosek-bot/regsosek-bot.env"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["User"] != ["root"] and service["User"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_compose_file_names_the_bot_and_its_data_volume() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == {"bot"}
    assert set(compose["volumes"]) == {"regsosek-data"}
    bot = compose["services"]["bot"]
    assert "regsosek-data:/data" in bot["volumes"]
    assert bot["environment"]["DATABASE_PATH"].startswith("/data/")
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == (
        ROOT / "Dockerfile")
    assert bot["command"] == list(RUN_ARGS[2:])  # `run`, after the image's `python -m bot`
    assert bot["restart"] in ("unless-stopped", "always", "on-failure")
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])  # only the proxy
    # The listener is reachable from outside the container, in both modes.
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in bot["environment"].items()})
    assert settings.listen_address() == ("0.0.0.0", 8080)


def test_the_image_runs_the_bot_as_the_tests_do_as_a_user_with_its_data_on_a_volume() -> None:
    instructions = dockerfile_instructions()
    froms = [args for instruction, args in instructions if instruction == "FROM"]
    assert froms and all(is_slim(image) for image in froms)
    final = instructions[max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM"):]
    entrypoint = [json.loads(a) for ins, a in final if ins == "ENTRYPOINT"][-1]
    cmd = [json.loads(a) for ins, a in final if ins == "CMD"][-1]
    assert entrypoint + cmd == ["python", *RUN_ARGS]
    users = [a for ins, a in final if ins == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(ins == "VOLUME" and "/data" in a for ins, a in final)
    env = " ".join(a for ins, a in final if ins == "ENV")
    assert "DATABASE_PATH=/data/" in env
    runs = " ".join(a for ins, a in instructions if ins == "RUN")
    assert "pip wheel" in runs and "/wheels/*.whl" in runs  # installed from the wheel
    [healthcheck] = [a for ins, a in final if ins == "HEALTHCHECK"]
    assert '["python", "-m", "bot", "status"]' in healthcheck  # asks /healthz


def is_slim(image: str) -> bool:
    name = image.split()[0]
    return name.startswith("python:3.") and name.endswith("-slim")


def test_the_nginx_example_proxies_the_webhook_to_the_default_listener(tmp_path: Path) -> None:
    text = (DEPLOY / "nginx.conf.example").read_text(encoding="utf-8")
    webhook = Settings(_env_file=None, webhook_url="https://bot.example.go.id/telegram/webhook",
                       webhook_secret="x")
    assert webhook.listen_address() == ("127.0.0.1", 8080)
    assert "proxy_pass http://127.0.0.1:8080;" in text
    assert f"location = {webhook.webhook_path} " in text
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl is not installed on this machine: syntax not checked")
    certs = tmp_path / "certs"
    certs.mkdir()
    key, cert = certs / "key.pem", certs / "cert.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=bot.example.go.id"],
        capture_output=True, timeout=60)
    assert made.returncode == 0
    site = tmp_path / "site.conf"
    site.write_text(text.replace("/etc/letsencrypt/live/bot.example.go.id/fullchain.pem",
                                 str(cert))
                    .replace("/etc/letsencrypt/live/bot.example.go.id/privkey.pem", str(key)),
                    encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    f"events {{}}\nhttp {{ include {site}; }}\n", encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-c", str(main)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_readme_points_to_the_deployment_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    assert "deploy/README.md" in section
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for part in ("compose.yaml", "regsosek-bot.service", "nginx.conf.example", "/healthz",
                 "/metrics", "db backup", "WEBHOOK_SECRET"):
        assert part in guide
