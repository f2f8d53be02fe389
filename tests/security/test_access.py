"""Access: open on loopback, tokens required elsewhere, constant-time checks, roles by method."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.e2e.conftest import start_server

from opsradar.core import ConfigError, load_config
from opsradar.web import Access, TokenAuth

WRITE, ADMIN, READ = "w" * 20, "a" * 20, "r" * 20


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{request.method} ok")


def _client(access: Access) -> TestClient:
    methods = ["GET", "POST", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", _ok, methods=methods)])
    return TestClient(TokenAuth(app, access), base_url="http://t")


def _status(client: TestClient, method: str, token: str | None, path: str = "/x") -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers).status_code


def test_no_tokens_means_everything_is_open() -> None:
    with _client(Access()) as client:
        assert [_status(client, m, None) for m in ("GET", "POST", "DELETE")] == [200] * 3


def test_roles_follow_the_method_and_stronger_tokens_grant_weaker_roles() -> None:
    with _client(Access(WRITE, ADMIN)) as client:
        assert _status(client, "GET", None) == 200  # reads open by default
        assert _status(client, "POST", None) == 401
        assert _status(client, "POST", WRITE) == 200
        assert _status(client, "POST", ADMIN) == 200
        assert _status(client, "PUT", "x" * 20) == 403
        assert _status(client, "DELETE", WRITE) == 403
        assert _status(client, "DELETE", ADMIN) == 200
        assert _status(client, "POST", WRITE, "/api/v1/admin/compact") == 403
        denied = client.post("/x")
        assert denied.json()["error"]["status"] == 401
        assert "token" in denied.json()["error"]["message"]
        assert denied.headers["www-authenticate"].startswith("Bearer")


def test_reads_can_be_protected_and_browsers_use_basic_auth() -> None:
    with _client(Access(WRITE, ADMIN, READ)) as client:
        assert _status(client, "GET", None) == 401
        assert [_status(client, "GET", t) for t in (READ, WRITE, ADMIN)] == [200] * 3
        assert _status(client, "POST", READ) == 403
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.headers["www-authenticate"].startswith("Basic")
        basic = base64.b64encode(f"anyone:{READ}".encode()).decode()
        assert client.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        assert client.get("/", headers={"Authorization": "Basic !!"}).status_code == 401
        assert client.get("/", headers={"Authorization": f"Bearer {READ[:-1]}"}).status_code == 403


def test_tokens_are_compared_in_constant_time() -> None:
    source = (Path(__file__).parents[2] / "src/opsradar/web/_auth.py").read_text()
    assert "hmac.compare_digest" in source
    assert "== candidate" not in source and "token in accepted" not in source


def test_config_refuses_a_public_address_without_tokens() -> None:
    with pytest.raises(ConfigError, match="write_token and admin_token"):
        load_config({"host": "0.0.0.0"}, {})
    with pytest.raises(ConfigError, match="at least 16"):
        load_config({"host": "0.0.0.0", "write_token": "short", "admin_token": ADMIN}, {})
    assert load_config({"host": "0.0.0.0", "insecure": True}, {}).insecure
    cfg = load_config(
        {"host": "0.0.0.0"}, {"OPSRADAR_WRITE_TOKEN": WRITE, "OPSRADAR_ADMIN_TOKEN": ADMIN}
    )
    assert WRITE not in repr(cfg)
    assert load_config({"host": "::1"}, {}).host == "::1"


def test_the_real_server_refuses_to_start_on_a_public_address(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "opsradar.cli", "serve", "--host", "0.0.0.0"]
    done = subprocess.run(
        [*cmd, "--data-dir", str(tmp_path), "--http-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "write_token and admin_token" in done.stderr
    assert not (tmp_path / "opsradar.duckdb").exists()  # refused before opening anything


def test_the_real_server_on_a_public_address_requires_the_write_token(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "data",
        "--host",
        "0.0.0.0",
        "--set",
        f"write_token={WRITE}",
        "--set",
        f"admin_token={ADMIN}",
    )
    try:
        with server.client() as http:
            body = {"points": [{"name": "auth.test", "value": 1}]}
            assert http.post("/api/v1/points", json=body).status_code == 401
            assert http.post("/api/v1/events", json={"what": "x"}).status_code == 401
            auth = {"Authorization": f"Bearer {WRITE}"}
            assert http.post("/api/v1/points", json=body, headers=auth).status_code == 202
            assert http.post("/api/v1/events", json={"what": "x"}, headers=auth).status_code == 201
            assert http.get("/api/v1/status").status_code == 200  # reads open by default
    finally:
        server.stop(signal.SIGTERM)
