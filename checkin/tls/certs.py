"""The local certificate authority and the server certificate it signs, made once and kept.

Browsers give the camera only to secure contexts, so tablets on the LAN need HTTPS with a
certificate they trust. A throwaway self-signed certificate per start would have to be
accepted again on every device every day; instead a small certificate authority (CA) is
generated once, each device trusts it once, and the server certificate it signs is
re-issued silently whenever the machine's addresses change. The CA is name-constrained to
this machine's names (localhost, its host name), so a device that trusts it cannot be
fooled about any web site's domain even if the CA key were stolen. IP addresses are left
unconstrained on purpose: venues such as universities hand out public addresses, and the
same CA must keep working wherever the laptop goes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from checkin.core import clock

CA_DAYS = 10 * 365
# Apple platforms refuse TLS server certificates valid for more than 825 days.
SERVER_DAYS = 820
RENEW_DAYS = 30


@dataclass(frozen=True)
class Certificates:
    """Where the kept files are: the CA certificate and the server's certificate and key."""

    folder: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    issued: bool  # whether the server certificate was (re)issued just now

    def ca_fingerprint(self) -> str:
        """Return the CA's SHA-256 fingerprint as colon-separated hex (as iOS shows it)."""
        cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def _interface_addresses() -> set[str]:
    """Return the IPv4 address of every network interface (Linux; empty elsewhere)."""
    found: set[str] = set()
    siocgifaddr = 0x8915
    try:
        import fcntl

        names = [name for _index, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return found
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            with contextlib.suppress(OSError):
                packed = fcntl.ioctl(s.fileno(), siocgifaddr,
                                     struct.pack("256s", name.encode()[:15]))
                found.add(socket.inet_ntoa(packed[20:24]))
    return found


def primary_address() -> str | None:
    """Return the IPv4 address this machine uses towards other hosts (sends no packet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only, nothing is sent
            return s.getsockname()[0]
        except OSError:
            return None


def lan_addresses() -> list[str]:
    """Return this machine's non-loopback IPv4 addresses, the primary one first."""
    found = _interface_addresses()
    with contextlib.suppress(OSError):
        found.update(info[4][0] for info in socket.getaddrinfo(
            socket.gethostname(), None, socket.AF_INET))
    primary = primary_address()
    if primary:
        found.add(primary)
    usable = {a for a in found
              if not ipaddress.ip_address(a).is_loopback
              and not ipaddress.ip_address(a).is_unspecified}
    return sorted(usable, key=lambda a: (a != primary, _address_order(a)))


def _address_order(address: str) -> tuple[int, int]:
    """Sort IPv4 before IPv6, each numerically."""
    ip = ipaddress.ip_address(address)
    return ip.version, int(ip)


def _hostname() -> str:
    """Return this machine's host name, lower-case, as it may appear in a certificate."""
    name = socket.gethostname().strip().lower().rstrip(".")
    return name if name and all(c.isalnum() or c in "-." for c in name) else "localhost"


def wanted_names(addresses: list[str]) -> tuple[set[str], set[str]]:
    """Return the DNS names and IP addresses the server certificate must cover."""
    host = _hostname()
    dns = {"localhost", host}
    if "." not in host:
        dns.add(host + ".local")  # how mDNS (Bonjour/Avahi) announces the machine
    ips = {"127.0.0.1", "::1", *addresses}
    return dns, ips


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Write a file atomically; private keys are readable by their owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if private:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _new_ca(folder: Path) -> None:
    """Create the local CA (key and self-signed certificate), constrained to local names."""
    key = ec.generate_private_key(ec.SECP256R1())
    host = _hostname()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "checkin"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"checkin local CA ({host})")])
    now = clock.now()
    permitted = [x509.DNSName(n) for n in sorted({"localhost", host, host + ".local"})]
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(permitted_subtrees=permitted,
                                                excluded_subtrees=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write(folder / "ca.key", _key_pem(key), private=True)
    _write(folder / "ca.crt", cert.public_bytes(serialization.Encoding.PEM))


def _permitted(ca: x509.Certificate, dns: set[str], ips: set[str]) -> tuple[set[str], set[str]]:
    """Keep only the host names the CA's name constraints allow (e.g. not a renamed host)."""
    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return dns, ips
    names = {s.value for s in constraints.permitted_subtrees or []
             if isinstance(s, x509.DNSName)}
    return {d for d in dns if d in names}, ips


def _covers(cert: x509.Certificate, dns: set[str], ips: set[str]) -> bool:
    """Return whether the certificate names exactly these hosts and is not about to expire."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - clock.now() > timedelta(days=RENEW_DAYS)
    return fresh and have_dns == dns and have_ips == ips


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Return whether `ca` signed `cert` (a re-created CA means a new server certificate)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _issue_server(folder: Path, dns: set[str], ips: set[str]) -> None:
    """Sign a server certificate for these names and addresses with the kept CA."""
    ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = clock.now()
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in sorted(dns)]
    sans += [x509.IPAddress(ipaddress.ip_address(i))
             for i in sorted(ips, key=_address_order)]
    cert = (x509.CertificateBuilder()
            # A common name with a space is not a host name, so no checker matches it.
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                        "checkin server")]))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(min(now + timedelta(days=SERVER_DAYS), ca.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(folder / "server.key", _key_pem(key), private=True)
    # The chain (server, then CA) lets clients that were given only the CA build the path.
    _write(folder / "server.crt", cert.public_bytes(serialization.Encoding.PEM)
           + ca.public_bytes(serialization.Encoding.PEM))


def ensure_certificates(folder: Path, addresses: list[str] | None = None) -> Certificates:
    """Make the CA once, and (re)issue the server certificate when the addresses changed."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "ca.key").exists() or not (folder / "ca.crt").exists():
        _new_ca(folder)
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    dns, ips = _permitted(ca, *wanted_names(lan_addresses() if addresses is None
                                            else addresses))
    issued = False
    server_cert, server_key = folder / "server.crt", folder / "server.key"
    current = None
    if server_cert.exists() and server_key.exists():
        current = x509.load_pem_x509_certificate(server_cert.read_bytes())
    if current is None or not _signed_by(current, ca) or not _covers(current, dns, ips):
        _issue_server(folder, dns, ips)
        issued = True
    return Certificates(folder, folder / "ca.crt", server_cert, server_key, issued)


def ca_der(folder: Path) -> bytes | None:
    """Return the CA certificate in DER form (what phones and tablets install), if made."""
    path = folder / "ca.crt"
    if not path.exists():
        return None
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)
