"""Plain http:// on the HTTPS port: a redirect to https://, and HTTPS still works."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from checkin.web.plainhttp import redirect_answer
from tests.test_server import Served


def test_redirect_answer_for_a_plain_request():
    answer = redirect_answer(b"GET /scan?x=1 HTTP/1.1\r\nHost: 192.168.1.20:8443\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 301 ")
    assert b"Location: https://192.168.1.20:8443/scan?x=1\r\n" in answer
    # No Host header or a hostile one: a plain explanation, never a redirect elsewhere.
    for head in (b"GET / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
                 b"garbage\r\n\r\n"):
        bad = redirect_answer(head)
        assert bad.startswith(b"HTTP/1.1 400 ") and b"https://" in bad


@pytest.mark.server
def test_plain_http_on_the_https_port_is_redirected(db_path):
    with Served(db_path, "--host", "127.0.0.1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
            plain.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n"
                          .encode())
            answer = b""
            while chunk := plain.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 301 ")
        assert f"Location: https://127.0.0.1:{server.port}/login".encode() in answer
        # TLS on the same port still answers.
        ca = db_path.parent / "tls" / "ca.crt"
        ok = requests.get(f"https://127.0.0.1:{server.port}/login", verify=str(ca), timeout=10)
        assert ok.status_code == 200
        # A redirected visitor is not a fault: no traceback in the organiser's terminal.
        time.sleep(0.5)
        assert "Traceback" not in server.output() and "SSLError" not in server.output()
