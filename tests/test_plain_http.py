"""Plain http:// on the HTTPS port: a redirect to https://, and HTTPS still works."""

from __future__ import annotations

import logging
import socket
import ssl
import time

import pytest
import requests

from checkin.web.plainhttp import HandshakeLog, redirect_answer
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


def _refuse_certificate(port: int, source: str = "127.0.0.1") -> None:
    """One TLS handshake by a client that does not trust the server's CA (as a new phone)."""
    client = ssl.create_default_context()  # the system's CAs, not ours: it refuses
    with (socket.create_connection(("127.0.0.1", port), timeout=10,
                                   source_address=(source, 0)) as raw,
          pytest.raises(ssl.SSLCertVerificationError)):
        client.wrap_socket(raw, server_hostname="127.0.0.1")


def _handshake_lines(output: str, address: str) -> list[str]:
    return [line for line in output.splitlines()
            if f"TLS handshake from {address} failed" in line]


@pytest.mark.server
def test_refused_certificate_logs_one_line_per_address_and_no_traceback(db_path):
    with Served(db_path, "--host", "127.0.0.1") as server:
        for _ in range(8):
            _refuse_certificate(server.port)
        for _ in range(3):
            _refuse_certificate(server.port, source="127.0.0.2")
        # A device that trusts the CA still gets in.
        ca = db_path.parent / "tls" / "ca.crt"
        ok = requests.get(f"https://127.0.0.1:{server.port}/login", verify=str(ca), timeout=10)
        assert ok.status_code == 200
        time.sleep(0.5)
        output = server.output()
    first, second = _handshake_lines(output, "127.0.0.1"), _handshake_lines(output, "127.0.0.2")
    assert len(first) == 1 and len(second) == 1, output
    assert "install the CA from /ca.crt" in first[0]
    assert "Traceback" not in output and "SSLError" not in output


def test_a_quiet_minute_then_one_more_line_counting_the_refusals_between():
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    log = logging.getLogger("checkin.test.handshakes")
    log.addHandler(Collect())
    handshakes = HandshakeLog(every=0.3, log=log)
    told = [handshakes.failed("10.0.0.7", "TLSV1_ALERT_UNKNOWN_CA") for _ in range(5)]
    assert told == [True, False, False, False, False] and len(lines) == 1
    assert handshakes.failed("10.0.0.8", "TLSV1_ALERT_UNKNOWN_CA") is True
    time.sleep(0.35)
    assert handshakes.failed("10.0.0.7", "TLSV1_ALERT_UNKNOWN_CA") is True
    assert "10.0.0.7" in lines[-1] and "(4 more since the last line)" in lines[-1]
    assert len(lines) == 3
