"""The big-conference deployment of docs/deployment.md, run for real: two `checkin serve`
processes joined by redis-server, behind Debian's nginx with docs/nginx-checkin.conf."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import websocket

from checkin.core.db import connect
from checkin.devices import add_device
from checkin.tls.certs import ensure_certificates
from tests import processes
from tests.conftest import ROOT, free_port
from tests.test_scale_out import _serve, redis_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_config(tmp: Path, port: int, backends: list[int], cert: Path, key: Path) -> Path:
    """Return an nginx.conf that includes the documented server block, pointed at the test."""
    site = (ROOT / "docs" / "nginx-checkin.conf").read_text()
    upstream = "".join(f"    server 127.0.0.1:{p};\n" for p in backends)
    site = re.sub(r"(    server 127\.0\.0\.1:800\d;\n)+", upstream, site)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    site = site.replace("listen [::]:443 ssl;\n", "")
    site = site.replace("/srv/checkin/tls/server.crt", str(cert))
    site = site.replace("/srv/checkin/tls/server.key", str(key))
    (tmp / "checkin.conf").write_text(site)
    temp = "".join(f"    {kind}_temp_path {tmp}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "worker_processes 1;\nevents { worker_connections 1024; }\n"
        f"http {{\n    access_log off;\n{temp}    include {tmp}/checkin.conf;\n}}\n")
    return conf


def test_nginx_in_front_of_two_servers_and_redis(db_path, tmp_path, redis_url):  # noqa: F811
    """Through nginx (TLS, ip_hash): pages, a display's WebSocket and a long-polling session
    (sticky) work; a scan stored by the other process reaches the display."""
    first = _serve(db_path, tmp_path, "--message-queue", redis_url, "--behind-proxy")
    second = _serve(db_path, tmp_path, "--message-queue", redis_url, "--behind-proxy")
    certs = ensure_certificates(tmp_path / "tls", ["127.0.0.1"])
    ca = str(certs.ca_cert)
    port = free_port()
    (tmp_path / "nginx").mkdir()
    conf = nginx_config(tmp_path / "nginx", port, [first.port, second.port],
                        certs.server_cert, certs.server_key)
    nginx = processes.spawn([NGINX, "-c", str(conf), "-p", str(tmp_path / "nginx")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"https://127.0.0.1:{port}"
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert session.get(base + "/login", timeout=5).status_code == 200
                break
            except requests.ConnectionError:
                if nginx.poll() is not None or time.monotonic() > deadline:
                    error = nginx.stderr.read().decode() if nginx.stderr else ""
                    raise AssertionError(error) from None
                time.sleep(0.1)
        db = connect(db_path)
        tablet = add_device(db, "Entrance tablet", "scanner", "entrance")["token"]
        tv = add_device(db, "Hall TV", "display")["token"]
        codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id LIMIT 2")]
        db.conn.close()
        # A display over WebSocket through nginx (one thread: see test_server).
        ws = websocket.create_connection(
            f"wss://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            sslopt={"ca_certs": ca}, timeout=10)
        assert ws.recv().startswith("0{")
        ws.send("40/live," + json.dumps({"token": tv}))
        arrived = None
        while arrived is None:
            message = ws.recv()
            if message.startswith('42/live,["headcounts"'):
                arrived = json.loads(message[len("42/live,"):])[1]["arrived"]
        # A scan stored by each backend in turn (directly, past nginx's ip_hash, which
        # sends this one address to one of them): both reach the display through nginx.
        for server, code in zip((first, second), codes, strict=True):
            response = requests.post(server.url + "/api/v1/scans", timeout=10,
                                     headers={"Authorization": "Bearer " + tablet},
                                     json={"scans": [{"id": os.urandom(8).hex(),
                                                      "code": code,
                                                      "checkpoint": "entrance",
                                                      "direction": "in",
                                                      "at": "2019-11-12T09:00:00.000Z"}]})
            assert response.status_code == 200
            deadline = time.monotonic() + 3
            while True:
                message = ws.recv()
                if message == "2":
                    ws.send("3")
                if message.startswith('42/live,["headcounts"'):
                    now = json.loads(message[len("42/live,"):])[1]["arrived"]
                    if now == arrived + 1:
                        arrived = now
                        break
                assert time.monotonic() < deadline, "the push did not cross over"
        ws.close()
        # Long-polling: every request of the session must reach the same process (ip_hash).
        opened = session.get(base + "/socket.io/?EIO=4&transport=polling", timeout=10).text
        sid = json.loads(opened[1:])["sid"]
        url = base + f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        assert session.post(url, data="40/live," + json.dumps({"token": tv}),
                            timeout=10).text.lower() == "ok"
        received = ""
        for _ in range(5):
            received += session.get(url, timeout=10).text
            if '"hello"' in received:
                break
        assert '"hello"' in received and '"Hall TV"' in received
    finally:
        processes.stop(nginx, timeout=10)  # with its worker
        first.stop()
        second.stop()
