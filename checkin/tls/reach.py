"""Addresses that tablets and phones can open: never the server's own loopback."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


def is_loopback(host: str) -> bool:
    """Return whether `host` (a name or address) only reaches this machine itself."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def device_base_url(host_url: str, addresses: list[str]) -> str | None:
    """Return a base URL devices can reach, or None when this server has no LAN address.

    `host_url` is the address the organiser's browser used; when that is a loopback address
    (the page opened on the server itself), the first LAN address replaces it, same scheme
    and port.
    """
    parts = urlsplit(host_url)
    host = parts.hostname or ""
    if not is_loopback(host):
        return host_url.rstrip("/")
    if not addresses:
        return None
    lan = addresses[0]
    shown = f"[{lan}]" if ":" in lan else lan
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return urlunsplit((parts.scheme, netloc, "", "", "")).rstrip("/")


def lan_addresses_from_config(config: dict) -> list[str]:
    """Return the LAN addresses `checkin serve` found at start, or look them up now."""
    found = config.get("LAN_ADDRESSES")
    if found is not None:
        return list(found)
    from checkin.tls.certs import lan_addresses

    return lan_addresses()
