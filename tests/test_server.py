"""`checkin serve`: gunicorn in a subprocess, HTTPS with the kept local CA, setup link, shutdown."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests
import socketio
import websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from PIL import Image

from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.tls.certs import ensure_certificates, lan_addresses
from tests.conftest import ORGANISER, LiveServer, free_port

BANNER_END = "Stop with Ctrl+C."


class Served(LiveServer):
    """`checkin serve ...` started exactly as a user types it (HTTPS unless told otherwise),
    ready once it has printed its start-up banner, with its output captured."""

    def __init__(self, db_path: Path, *args: str):
        port = free_port()
        super().__init__(db_path, port, db_path.parent / f"serve-{port}.log", args,
                         scheme="https")
        self.start()

    def ready(self) -> bool:
        """Whether the start-up banner (printed once the port is bound) is in the log."""
        return BANNER_END in self.output()

    def output(self) -> str:
        """What the server has printed so far (all of the banner, once started)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> float:
        """Send SIGTERM and return how many seconds the server took to exit."""
        started = time.monotonic()
        super().stop()
        return time.monotonic() - started

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def sign_in(session: requests.Session, base: str) -> None:
    """Sign a requests session in as the demo organiser, sending a Referer as browsers do."""
    html = session.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = session.post(base + "/login", allow_redirects=False,
                            headers={"Referer": base + "/login"},
                            data={"username": ORGANISER[0], "password": ORGANISER[1],
                                  "csrf_token": token})
    assert response.status_code == 302, response.text


def decode_terminal_qr(text: str) -> list[str]:
    """Turn the block-character QR in the server's output back into pixels and decode it."""
    import zxingcpp

    # qrcode prints a no-break space for an all-dark cell pair.
    halves = {" ": (0, 0), "\xa0": (0, 0), "█": (1, 1), "▀": (1, 0), "▄": (0, 1)}
    rows = [line for line in text.splitlines() if line and set(line) <= set(halves)]
    bits = []
    for row in rows:
        bits.append([halves[c][0] for c in row])
        bits.append([halves[c][1] for c in row])
    scale, width = 8, max(len(r) for r in bits)
    image = Image.new("L", (width * scale + 80, len(bits) * scale + 80), 255)
    for y, row in enumerate(bits):
        for x, bit in enumerate(row):
            if bit:  # printed blocks are the light modules (inverted for dark terminals)
                continue
            image.paste(0, (40 + x * scale, 40 + y * scale,
                            40 + (x + 1) * scale, 40 + (y + 1) * scale))
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_certificate_reissued_only_when_addresses_change(tmp_path: Path) -> None:
    """The CA is made once; the server certificate follows the machine's addresses."""
    folder = tmp_path / "tls"
    first = ensure_certificates(folder, ["10.0.0.5"])
    ca_bytes = first.ca_cert.read_bytes()
    assert first.issued
    assert not ensure_certificates(folder, ["10.0.0.5"]).issued
    moved = ensure_certificates(folder, ["192.168.1.20"])
    assert moved.issued and moved.ca_cert.read_bytes() == ca_bytes
    ca = x509.load_pem_x509_certificate(ca_bytes)
    cert = x509.load_pem_x509_certificate(moved.server_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    assert ips == {"192.168.1.20", "127.0.0.1", "::1"}
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    # The CA may vouch only for this machine's names, never for a public domain.
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    allowed = {s.value for s in constraints.permitted_subtrees}
    assert "localhost" in allowed and not any("." in a and not a.endswith(".local")
                                             for a in allowed - {"localhost"})
    for key in ("ca.key", "server.key"):
        assert (folder / key).stat().st_mode & 0o777 == 0o600


@pytest.mark.server
def test_https_validates_against_the_kept_ca(db_path: Path) -> None:
    """HTTPS verifies for 127.0.0.1 and localhost with the CA, and survives a restart."""
    ca_file = db_path.parent / "tls" / "ca.crt"
    with Served(db_path, "--host", "127.0.0.1") as server:
        out = server.output()
        base = f"https://127.0.0.1:{server.port}"
        assert base in out and "/setup/" not in out and f"{base}/login" in out
        for host in ("127.0.0.1", "localhost"):
            response = requests.get(f"https://{host}:{server.port}/login", verify=str(ca_file),
                                    timeout=10)
            assert response.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(base + "/login", timeout=10)  # unknown to the system's trust store
        download = requests.get(base + "/ca.crt", verify=str(ca_file), timeout=10)
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
        assert download.content == ca.public_bytes(serialization.Encoding.DER)
        assert download.headers["Content-Type"] == "application/x-x509-ca-cert"
        fingerprint = re.search(r"SHA-256 ([0-9A-F:]{95})", out).group(1)
        assert fingerprint.replace(":", "").lower() == ca.fingerprint(hashes.SHA256()).hex()
        served_first = ssl.get_server_certificate(("127.0.0.1", server.port))
        assert served_first.strip() in (db_path.parent / "tls" / "server.crt").read_text()
    ca_before = ca_file.read_bytes()
    with Served(db_path, "--host", "127.0.0.1") as server:
        server.output()
        served_again = ssl.get_server_certificate(("127.0.0.1", server.port))
        assert requests.get(f"https://localhost:{server.port}/login", verify=str(ca_file),
                            timeout=10).status_code == 200
    assert served_again == served_first
    assert ca_file.read_bytes() == ca_before


@pytest.mark.server
def test_http_mode_and_websocket(live_server) -> None:
    """--http serves plain HTTP (no CA to download) and Socket.IO works through gunicorn."""
    assert requests.get(live_server.url + "/login", timeout=10).status_code == 200
    assert requests.get(live_server.url + "/ca.crt", timeout=10).status_code == 404
    log = live_server.log_path.read_text()
    assert live_server.url in log and "gevent" in log and "/setup/" not in log
    session = requests.Session()
    sign_in(session, live_server.url)
    client = socketio.Client(http_session=session)
    client.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    try:
        assert client.connected and client.transport() == "websocket"
    finally:
        client.disconnect()


@pytest.mark.server
def test_websocket_over_https_and_sigterm(db_path: Path) -> None:
    """A WebSocket joins /live over HTTPS; SIGTERM stops the server within seconds even so."""
    ca_file = db_path.parent / "tls" / "ca.crt"
    server = Served(db_path, "--host", "127.0.0.1")
    try:
        server.output()
        base = f"https://localhost:{server.port}"
        session = requests.Session()
        # Else REQUESTS_CA_BUNDLE from the environment silently overrides session.verify.
        session.trust_env = False
        session.verify = str(ca_file)
        sign_in(session, base)
        # The Engine.IO/Socket.IO handshake by hand on one thread: python-socketio's client
        # reads and writes its TLS socket from two threads, and about one connect in twenty
        # then hangs here. Chromium made 400 of 400 connects to this server over HTTPS.
        ws = websocket.create_connection(
            f"wss://localhost:{server.port}/socket.io/?EIO=4&transport=websocket",
            sslopt={"ca_certs": str(ca_file)}, timeout=10,
            cookie="; ".join(f"{k}={v}" for k, v in session.cookies.items()))
        assert ws.recv().startswith("0{")  # Engine.IO open
        ws.send("40/live,")
        # The handler's "hello" and its rooms' state come before the acknowledgement.
        events: dict[str, dict] = {}
        for _ in range(20):
            message = ws.recv()
            if message.startswith("40/live,"):
                break
            name, payload = json.loads(message.removeprefix("42/live,"))
            events[name] = payload
        assert message.startswith('40/live,{"sid"'), message
        assert events["hello"]["role"] == "organiser"
        assert events["headcounts"]["registered"] == 60
        seconds = server.stop()
        assert server.proc.returncode == 0
        assert seconds < 6, f"took {seconds:.1f} s to stop"
        # The socket closes (a close frame or a dropped connection), not a 10 s time-out.
        try:
            while ws.recv():  # anything still buffered, then "" for the close frame
                pass
        except websocket.WebSocketConnectionClosedException:
            pass
    finally:
        server.stop()


@pytest.mark.server
@pytest.mark.browser
def test_setup_link_works_once_in_chromium(tmp_path: Path, browser) -> None:
    """Without organisers the server prints a one-time setup link that works over HTTPS."""
    db_path = tmp_path / "event.db"
    db = connect(db_path)
    create_demo(db, tmp_path)
    db.conn.close()
    with Served(db_path) as server:  # the default: HTTPS on every address of the machine
        out = server.output()
        urls = [f"https://{a}:{server.port}" for a in lan_addresses()]
        urls.append(f"https://127.0.0.1:{server.port}")
        for url in urls:
            assert url in out
        assert decode_terminal_qr(out) == [urls[0]]
        setup = re.search(r"(https://\S+/setup/\S+)", out).group(1)
        assert setup.startswith(urls[0] + "/setup/")
        ca_file = str(tmp_path / "tls" / "ca.crt")
        # The printed LAN address itself validates against the CA.
        assert requests.get(setup, verify=ca_file, timeout=10).status_code == 200
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.goto(setup)
        assert page.evaluate("window.isSecureContext")
        page.fill("#username", "erste")
        page.fill("#password", "a long enough password")
        page.fill("#password2", "a long enough password")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/participants.*"))
        again = page.goto(setup)
        # Used: 410 Gone, with a translated page that points to the sign-in.
        assert again is not None and again.status == 410
        assert page.locator(".error-page a[href='/login']").count() == 1
        context.close()
    with Served(db_path) as server:
        out = server.output()
        assert "/setup/" not in out and "sign in" in out


@pytest.mark.server
def test_bench_smoke_run() -> None:
    """scripts/bench runs end to end against the real server and every scan is stored once."""
    bench = Path(__file__).resolve().parent.parent / "scripts" / "bench"
    done = subprocess.run([str(bench), "--smoke", "--json", "--no-push"], capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["stored"]["ok"] and report["stored"]["sent"] > 0
    modes = {(r["mode"], r["devices"]) for r in report["scenarios"]}
    assert modes == {("GET /me", 10), ("single", 1), ("single", 10), ("batch of 50", 1),
                     ("batch of 50", 10), ("paced 5/s", 10)}
    mix: dict[str, int] = {}
    for r in report["scenarios"]:
        assert r["error_count"] == 0 and r["p50_ms"] > 0
        assert r["scans_per_s"] > 0 if r["mode"] != "GET /me" else r["scans"] == 0
        for key, n in r["results"].items():
            mix[key.split(":")[0]] = mix.get(key.split(":")[0], 0) + n
    assert mix.get("accepted") and mix.get("warning") and mix.get("rejected")
    assert report["baseline"]["mode"] == "GET /me" and report["baseline"]["p50_ms"] > 0
    assert [t["ok"] for t in report["targets"]]  # judged, whatever this machine manages
