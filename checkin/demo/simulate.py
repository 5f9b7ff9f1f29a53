"""`checkin simulate`: play a whole meeting day through the same HTTP API the devices use.

Arrivals at the entrance over the morning, the opening plenary, people into their working
groups' rooms and out again, the excursions boarding (a few no-shows, one walk-on),
departing and returning, and the others leaving. Organisers use it to train volunteers and
to see the dashboard alive before the day; the benchmark uses it as its load.

The plan is made from the event database (people, codes, rooms, times) and is the same for
the same --seed. Scans carry the event day's clock times; if the event day is still ahead,
the day is played on yesterday's date (the server never lets a scan lie in the future).
"""

from __future__ import annotations

import json
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlite_utils import Database

from checkin.core import clock
from checkin.core.backup import backup
from checkin.core.clock import now_iso
from checkin.core.db import connect
from checkin.core.event import event_info
from checkin.scans.people import people as view_people
from checkin.scans.scanlist import scans_not_by_devices_named


@dataclass(order=True)
class Step:
    """One thing that happens at `at`: a scan by a device, or an excursion event."""

    at: datetime
    n: int
    kind: str = field(compare=False)          # "scan" or "event"
    device: str = field(compare=False)        # "scanner" or "guide:<excursion id>"
    body: dict[str, Any] = field(compare=False)
    label: str = field(compare=False, default="")


class SimulationError(RuntimeError):
    """The simulation cannot go on (server unreachable, refused, or no data)."""


SIMULATOR = "Simulator "  # the name prefix of the devices the simulator adds


def real_scans(db: Database) -> int:
    """Count the scans in the log that no simulator device made (the day's real scans)."""
    return scans_not_by_devices_named(db, SIMULATOR)


def copy_for_rehearsal(source: Database, target: Path) -> Database:
    """Copy the event database to `target` with the day cleared; return the copy."""
    from checkin.scans.reset import clear_day

    try:
        backup(source, target, replace=False)
    except FileExistsError:
        raise SimulationError(f"{target} exists already: give a new file for --copy.") from None
    copy = connect(target)
    clear_day(copy)
    return copy


class LocalServer:
    """The app on a free loopback port in a thread, serving a rehearsal copy."""

    def __init__(self, db_path: Path):
        from werkzeug.serving import WSGIRequestHandler, make_server

        from checkin import create_app

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """Keep the rehearsal's own output readable: no line per request."""

        app = create_app({"DATABASE": str(db_path)})
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.thread.join(timeout=10)


def _day(db: Database, today: date | None = None) -> tuple[date, ZoneInfo]:
    """The date to play on and the event's time zone."""
    info = event_info(db)
    zone = clock.event_zone_of(info)
    today = today or clock.local(clock.now(), zone).date()
    day = clock.event_day_of(info) or today
    return (day if day < today else today - timedelta(days=1)), zone


def plan_day(db: Database, seed: int = 2019, today: date | None = None) -> list[Step]:
    """Make the day's steps from the event database, in the order they happen."""
    rng = random.Random(seed)
    day, zone = _day(db, today)

    def at(hhmm: str, plus_seconds: float = 0) -> datetime:
        h, m = map(int, hhmm.split(":"))
        return datetime(day.year, day.month, day.day, h, m, tzinfo=zone) + \
            timedelta(seconds=plus_seconds)

    def moved(stored: str | None, fallback: str) -> datetime:
        """A time from the database (UTC, on the event date) on the day being played."""
        if not stored:
            return at(fallback)
        return at(clock.clock_text(stored, zone))

    # The excursion each person is on today: the day's walk-ons over the plan.
    people = view_people(db)
    if not people:
        raise SimulationError("The event has no participants: import some first.")
    groups = {g["id"]: g for g in db.query("SELECT * FROM working_groups")}
    excursions = list(db.query("SELECT * FROM excursions ORDER BY departs_at, id"))
    plenary = db.execute("SELECT id FROM rooms WHERE id NOT IN (SELECT room FROM working_groups "
                         "WHERE room IS NOT NULL) ORDER BY capacity DESC LIMIT 1").fetchone()
    steps: list[Step] = []

    def add(when: datetime, kind: str, device: str, body: dict[str, Any], label: str) -> None:
        steps.append(Step(when, len(steps), kind, device, body, label))

    def scan(when: datetime, person: dict[str, Any], checkpoint: str, direction: str,
             device: str = "scanner") -> None:
        add(when, "scan", device, {"id": str(uuid.UUID(int=rng.getrandbits(128))),
                                   "code": person["code"], "checkpoint": checkpoint,
                                   "direction": direction}, f"{checkpoint} {direction}: "
                                   f"{person['first_name']} {person['last_name']}")

    def event(when: datetime, excursion: str, action: str, **extra: Any) -> None:
        add(when, "event", f"guide:{excursion}",
            {"id": str(uuid.UUID(int=rng.getrandbits(128))), "action": action, **extra},
            f"excursion {excursion}: {action}")

    # A few never come (about one in twenty); two come late, straight to their group.
    absent = set(rng.sample([p["id"] for p in people], max(1, len(people) // 20)))
    came = [p for p in people if p["id"] not in absent]
    late = set(rng.sample([p["id"] for p in came], min(2, len(came))))
    arrival: dict[int, datetime] = {}
    for p in came:
        arrival[p["id"]] = at("11:00", rng.uniform(0, 1800)) if p["id"] in late \
            else at("08:30", rng.triangular(0, 6600, 4800))
        scan(arrival[p["id"]], p, "entrance", "in")
    group_start = min((moved(g["starts_at"], "10:30") for g in groups.values()),
                      default=at("10:30"))
    for p in came:
        group = groups.get(p["working_group"])
        if plenary and p["id"] not in late and arrival[p["id"]] < group_start - timedelta(
                minutes=35):
            scan(group_start - timedelta(minutes=rng.uniform(30, 40)), p,
                 f"room:{plenary[0]}", "in")
            scan(group_start - timedelta(minutes=rng.uniform(6, 10)), p,
                 f"room:{plenary[0]}", "out")
        if group and group["room"]:
            start, end = moved(group["starts_at"], "10:30"), moved(group["ends_at"], "12:30")
            scan(max(start - timedelta(minutes=rng.uniform(0, 5)),
                     arrival[p["id"]] + timedelta(minutes=3)), p, f"room:{group['room']}", "in")
            scan(end + timedelta(minutes=rng.uniform(0, 8)), p, f"room:{group['room']}", "out")

    # Excursions: every one boards; some assigned people do not show up; one walk-on.
    by_excursion = {x["id"]: [p for p in came if p["excursion"] == x["id"]] for x in excursions}
    no_shows: set[int] = set()
    for x in rng.sample(excursions, min(3, len(excursions))):
        if by_excursion[x["id"]]:
            no_shows.add(rng.choice(by_excursion[x["id"]])["id"])
    spare = [p for p in came if not p["excursion"]] or \
        [p for p in came if p["id"] in no_shows]
    walk_on = rng.choice(spare) if spare and excursions else None
    walk_on_to = rng.choice(excursions) if walk_on else None
    if walk_on is not None and walk_on_to is not None and walk_on["excursion"] == walk_on_to["id"]:
        walk_on_to = next((x for x in excursions if x["id"] != walk_on["excursion"]), None)
    for x in excursions:
        departs, returns = moved(x["departs_at"], "14:00"), moved(x["returns_at"], "16:30")
        device = f"guide:{x['id']}"
        for p in by_excursion[x["id"]]:
            if p["id"] in no_shows or (walk_on and p["id"] == walk_on["id"]):
                continue
            scan(departs - timedelta(minutes=rng.uniform(2, 20)), p, f"excursion:{x['id']}",
                 "in", device)
        if walk_on is not None and walk_on_to is not None and walk_on_to["id"] == x["id"]:
            when = departs - timedelta(minutes=1.5)
            scan(when, walk_on, f"excursion:{x['id']}", "in", device)
            event(when + timedelta(seconds=20), x["id"], "walk_on", code=walk_on["code"])
        event(departs, x["id"], "depart")
        event(returns, x["id"], "return")
    # Who is not on an excursion leaves through the entrance in the afternoon.
    travelling = {p["id"] for ps in by_excursion.values() for p in ps} - no_shows
    if walk_on:
        travelling.add(walk_on["id"])
    for p in came:
        if p["id"] not in travelling:
            scan(at("14:15", rng.uniform(0, 5400)), p, "entrance", "out")
    return sorted(steps)


class Client:
    """The device API over HTTP, as a tablet or phone talks to it."""

    def __init__(self, server: str, tokens: dict[str, str], timeout: float = 15):
        if not server.startswith(("http://", "https://")):
            raise SimulationError(f"--server must start with http:// or https://: {server}")
        self.server, self.tokens, self.timeout = server.rstrip("/"), tokens, timeout

    def post(self, device: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST JSON as `device`; return the status and the JSON answer (retries 3 times)."""
        data = json.dumps(body).encode()
        for attempt in range(4):
            request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
                self.server + path, data=data, method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": "Bearer " + self.tokens[device]})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return response.status, json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                try:
                    return exc.code, json.loads(exc.read() or b"{}")
                except ValueError:
                    return exc.code, {}
            except (urllib.error.URLError, OSError) as exc:
                # Same id on every attempt: the server stores a scan or event only once.
                if attempt == 3:
                    raise SimulationError(f"{self.server} cannot be reached: {exc}") from exc
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")


def make_devices(db: Database, excursions: list[str], scanner: bool) -> dict[str, Any]:
    """Add the simulator's devices (a scanner, one guide per excursion); return tokens and ids."""
    from checkin.devices import add_device

    tokens, ids = {}, []
    if scanner:
        dev = add_device(db, SIMULATOR + "scanner", "scanner")
        tokens["scanner"] = dev["token"]
        ids.append(dev["id"])
    for x in excursions:
        dev = add_device(db, f"{SIMULATOR}guide {x}"[:80], "guide", f"excursion:{x}")
        tokens[f"guide:{x}"] = dev["token"]
        ids.append(dev["id"])
    return {"tokens": tokens, "ids": ids}


def play(steps: list[Step], client: Client, speed: float,
         echo: Any = print, verbose: bool = False) -> dict[str, int]:
    """Send every step to the server in order, `speed` times faster than real time (0: at
    once; 60: one event-minute per second)."""
    totals = {"scans": 0, "events": 0, "accepted": 0, "warning": 0, "rejected": 0,
              "already": 0, "refused": 0}
    if not steps:
        return totals
    start_event, start_wall = steps[0].at, time.monotonic()
    last_report = None
    for step in steps:
        if speed > 0:
            due = start_wall + (step.at - start_event).total_seconds() / speed
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        body = dict(step.body, at=now_iso(step.at))
        if step.kind == "scan":
            status, answer = client.post(step.device, "/api/v1/scans", {"scans": [body]})
            totals["scans"] += 1
            result = (answer.get("results") or [{}])[0] if status == 200 else {}
            outcome = result.get("status", "refused")
            if outcome not in totals:
                outcome = "refused"
        else:
            excursion = step.device.split(":", 1)[1]
            status, answer = client.post(step.device, f"/api/v1/excursions/{excursion}/events",
                                         body)
            totals["events"] += 1
            # 409: this database already saw that departure or return (a day played before);
            # the excursion is in the state the step wanted, so the rehearsal goes on.
            outcome = "ok" if status == 200 else "already" if status == 409 else "refused"
        if outcome in totals:
            totals[outcome] += 1
        hhmm = clock.clock_text(step.at, None)  # the step's own zone: the event's
        if outcome == "refused":
            message = (answer.get("error") or {}).get("message", "")
            echo(f"{hhmm}  REFUSED ({status}) {step.label}: {message}")
        elif verbose or step.kind == "event":
            echo(f"{hhmm}  {step.label} ({outcome})")
        half_hour = step.at.replace(minute=step.at.minute - step.at.minute % 30, second=0,
                                    microsecond=0)
        if half_hour != last_report:
            last_report = half_hour
            echo(f"{hhmm}  … {totals['scans']} scans, {totals['events']} excursion events")
    return totals


@click.command("simulate")
@click.option("--server", default=None,
              help="The server's address, e.g. https://10.0.0.2:8443 (not with --copy).")
@click.option("--copy", "copy_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Play into a new copy of --db at this path (the day cleared), "
                                 "served here on a loopback port; the event stays untouched.")
@click.option("--speed", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Times faster than real time (60: one event-minute per second, the day in "
                   "about 8 minutes); 0 = as fast as possible.")
@click.option("--fast", is_flag=True, help="As fast as possible (the same as --speed 0).")
@click.option("--seed", type=int, default=2019, show_default=True,
              help="The same seed plays the same day.")
@click.option("--token", default=None,
              help="A scanner device's token (default: add a simulator scanner to --db).")
@click.option("--guide-token", "guide_tokens", multiple=True, metavar="EXCURSION=TOKEN",
              help="A guide device's token for an excursion (default: add one to --db).")
@click.option("--insecure", is_flag=True,
              help="Do not check the server's HTTPS certificate (the local CA).")
@click.option("--verbose", "-v", is_flag=True, help="Print every scan.")
@click.pass_obj
def simulate_command(ctx: Any, server: str | None, copy_path: Path | None, speed: float,
                     fast: bool, seed: int,
                     token: str | None, guide_tokens: tuple[str, ...], insecure: bool,
                     verbose: bool) -> None:
    """Play the event day through the device API: arrivals, rooms, excursions.

    People, codes and times come from the event database (--db); devices the simulator adds
    there itself (one scanner, one guide per excursion) are revoked when it ends.

    A database that holds real scans (from the day, or from devices other than the
    simulator's) is refused: a rehearsal never mixes with the day. Use --copy to play the
    day into a copy instead.

    Example: checkin --db demo/event.db simulate --server http://127.0.0.1:8000 --speed 60
    Example: checkin --db event.db simulate --copy rehearsal.db --fast
    """
    db_path = Path(ctx.db_path)
    if not db_path.exists():
        click.echo(f"No event database at {db_path}; give --db.", err=True)
        sys.exit(1)
    if (server is None) == (copy_path is None):
        click.echo("Give either --server (a server of --db) or --copy PATH.", err=True)
        sys.exit(1)
    db = connect(db_path)
    local = None
    if copy_path is not None:
        try:
            db = copy_for_rehearsal(db, copy_path)
        except SimulationError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        local = LocalServer(copy_path)
        server = local.url
        click.echo(f"Rehearsal in the copy {copy_path} (served at {server}).")
    else:
        found = real_scans(db)
        if found:
            click.echo(f"{db_path} holds {found} real scan(s): a rehearsal would mix with "
                       "the day. Play into a copy with --copy PATH (or clear the day first "
                       "with `checkin reset --scans`).", err=True)
            sys.exit(1)
    assert server is not None
    if insecure:
        import ssl

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        urllib.request.install_opener(urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context)))
    tokens: dict[str, str] = {}
    if token:
        tokens["scanner"] = token
    for item in guide_tokens:
        excursion, _, value = item.partition("=")
        if not value:
            raise click.BadParameter("use EXCURSION=TOKEN", param_hint="--guide-token")
        tokens[f"guide:{excursion}"] = value
    excursions = [r[0] for r in db.execute("SELECT id FROM excursions ORDER BY id")]
    missing = [x for x in excursions if f"guide:{x}" not in tokens]
    made = make_devices(db, missing, scanner="scanner" not in tokens)
    tokens.update(made["tokens"])
    try:
        steps = plan_day(db, seed)
        click.echo(f"Playing {len(steps)} steps on {steps[0].at.date()} against {server} "
                   f"({'as fast as possible' if fast or not speed else f'speed {speed:g}'}).")
        began = time.monotonic()
        totals = play(steps, Client(server, tokens), 0 if fast else speed, click.echo, verbose)
    except SimulationError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    finally:
        if local is not None:
            local.stop()
        if made["ids"]:
            from checkin.devices import revoke

            for device_id in made["ids"]:
                revoke(db, device_id)
    click.echo(f"Done in {time.monotonic() - began:.1f} s: {totals['scans']} scans "
               f"({totals['accepted']} accepted, {totals['warning']} with a warning, "
               f"{totals['rejected']} rejected), {totals['events']} excursion events "
               f"({totals['already']} already done before), {totals['refused']} refused.")
    if totals["refused"]:
        sys.exit(2)
