"""`checkin device ...`: add, list and revoke scanning devices from the command line."""

from __future__ import annotations

import json

import click

from checkin import devices
from checkin.cli.failing import fail, fail_with


def default_base_url() -> str:
    """Return the address a default `checkin serve` announces first (HTTPS on the LAN)."""
    # The organiser page uses the address it was opened at; the CLI cannot know it, so it
    # assumes the default server, which tablets reach on this machine's LAN address.
    from checkin.tls.certs import lan_addresses
    from checkin.web.server import HTTPS_PORT, server_urls

    return server_urls("https", "0.0.0.0", HTTPS_PORT, lan_addresses())[0]  # noqa: S104


@click.group("device")
def device_group() -> None:
    """Manage scanning devices (tablets, phones, displays).

    Example: checkin --db event.db device add --name "Door 1" --role scanner
    """


@device_group.command("add")
@click.option("--name", required=True, help="A name people recognise, e.g. 'Door 1'.")
@click.option("--role", required=True, type=click.Choice(devices.ROLES),
              help="scanner (entrance, rooms), guide (one excursion), display, desk (a "
                   "scanner that registers walk-ins and prints badges), kiosk (self "
                   "check-in at the entrance) or marshal (roll calls at assembly points).")
@click.option("--checkpoint", default=None,
              help="Bind the device to one checkpoint (a guide needs excursion:<id>; a "
                   "marshal may have assembly:<id>).")
@click.option("--base-url", envvar="CHECKIN_BASE_URL", default=None, show_envvar=True,
              help="The server's address as devices reach it, for the pairing link "
                   "(default: what `checkin serve` announces, https://<LAN address>:8443).")
@click.option("--json", "as_json", is_flag=True,
              help='Print only {"id", "token", "pair_url"} as JSON.')
@click.pass_obj
def add_command(obj: object, name: str, role: str, checkpoint: str | None, base_url: str | None,
                as_json: bool) -> None:
    """Add a device; print its token (shown once) and a one-time pairing link.

    Example: checkin --db event.db device add --name "Bus Forum" --role guide --checkpoint excursion:forum --json
    """  # noqa: E501
    try:
        added = devices.add_device(obj.db(), name, role, checkpoint)  # type: ignore[attr-defined]
    except devices.DeviceError as exc:
        fail_with(exc)
    url = devices.pair_url(base_url or default_base_url(), added["pairing_code"])
    if as_json:
        click.echo(json.dumps({"id": added["id"], "token": added["token"], "pair_url": url}))
        return
    click.echo(f"Device {added['name']!r} added with id {added['id']}.")
    click.echo(f"Token (shown only now): {added['token']}")
    click.echo(f"Pairing link (works once, until {added['pair_expires_at'][11:16]} UTC): {url}")
    click.echo("Pairing gives the device a new token; the one above then stops working.")


@device_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the devices as a JSON list.")
@click.pass_obj
def list_command(obj: object, as_json: bool) -> None:
    """List devices with role, checkpoint, status and when they were last seen.

    Example: checkin --db event.db device list --json
    """
    rows = devices.list_devices(obj.db())  # type: ignore[attr-defined]
    keys = ("id", "name", "role", "checkpoint", "status", "created_at", "paired_at",
            "revoked_at", "last_seen_at")
    if as_json:
        click.echo(json.dumps([{k: row[k] for k in keys} for row in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("No devices yet.")
    for row in rows:
        click.echo(f"{row['id']}  {row['name']:<24} {row['role']:<8} "
                   f"{row['checkpoint'] or '-':<28} {row['status']:<8} "
                   f"last seen {row['last_seen_at'] or 'never'}")


@device_group.command("revoke")
@click.argument("device_id")
@click.pass_obj
def revoke_command(obj: object, device_id: str) -> None:
    """Revoke a device: its token stops working at once.

    Example: checkin --db event.db device revoke d1a2b3c4e
    """
    if not devices.revoke(obj.db(), device_id):  # type: ignore[attr-defined]
        fail("unknown_device", device=device_id)
    click.echo(f"Device {device_id} is revoked.")
