"""The workers of one server take turns at SQLite's write lock through a token in a pipe."""

from __future__ import annotations

import os
import time

import gevent
import pytest

from checkin.core import db as dbmod
from checkin.core.db import WriteTurn


@pytest.fixture()
def turn():
    fds = WriteTurn.create()
    yield WriteTurn(fds)
    for fd in fds:
        os.close(fd)


def test_one_token_goes_round(turn):
    assert turn.take() is True
    # Taken: the next writer waits for it (here: until the wait runs out).
    started = time.monotonic()
    old, dbmod.TURN_SECONDS = dbmod.TURN_SECONDS, 0.2
    try:
        assert turn.take() is False
    finally:
        dbmod.TURN_SECONDS = old
    assert time.monotonic() - started >= 0.2
    turn.give()
    assert turn.take() is True


def test_a_waiting_writer_is_woken_when_the_token_comes_back(turn):
    turn.take()
    woken: list[float] = []

    def writer() -> None:
        assert turn.take() is True
        woken.append(time.monotonic())

    waiting = gevent.spawn(writer)
    gevent.sleep(0.1)
    assert woken == []  # still waiting, and the loop goes on meanwhile
    given = time.monotonic()
    turn.give()
    waiting.join(timeout=2)
    assert woken and woken[0] - given < 0.05


def test_a_lost_token_is_replaced_but_never_doubled(turn):
    turn.take()  # its holder dies: nobody gives it back
    old, dbmod.TURN_SECONDS = dbmod.TURN_SECONDS, 0.05
    try:
        assert turn.take() is False  # written anyway, after the wait ...
    finally:
        dbmod.TURN_SECONDS = old
    turn.give()  # ... and a new token goes in
    turn.give()  # a second give adds nothing: one token is enough
    assert os.read(turn.read_fd, 10) == b"t"
