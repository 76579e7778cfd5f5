"""The filesystem broker of one-machine set-ups never hands a worker a half-written message.

Real parts: a process queueing through kombu on the transport `orderflow up` uses, and another
process polling the queue folder as a worker does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from orderflow.broker import PARTIAL_SUFFIX
from orderflow.housekeeping import prune_broker_folder

MESSAGES = 4
# Big enough that writing one takes many milliseconds: a reader polling meanwhile meets the file
# under its final name before it is complete, unless the writer renames it into place at the end.
BODY_SIZE = 16_000_000


# The writer and the reader run in processes of their own, as the web process and a worker do.
WRITER = """
import sys
from kombu import Connection
from kombu.utils.imports import symbol_by_name
transport, folder, count, size = symbol_by_name(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
options = {name: f"{folder}/{sub}" for name, sub in (
    ("data_folder_in", "queue"), ("data_folder_out", "queue"), ("processed_folder", "processed"),
    ("control_folder", "control"))}
with Connection("filesystem://localhost/", transport=transport, transport_options=options) as conn:
    queue = conn.SimpleQueue("race")
    for n in range(count):
        queue.put({"n": n, "body": "x" * size})
"""
READER = """
import json, os, sys
folder, stop = sys.argv[1], sys.argv[2]
seen, torn = set(), 0
while not os.path.exists(stop):
    for name in os.listdir(folder):
        if not name.endswith(".msg") or name in seen:
            continue
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                json.loads(handle.read())
        except ValueError:
            torn += 1
            continue
        seen.add(name)
print(len(seen), torn)
"""


def _torn_reads(transport: str, folder: Path) -> tuple[int, int]:
    """Queue MESSAGES from one process while another opens every message file the moment it appears
    under its final name, as a polling worker would. Returns (files read, times one was incomplete)."""
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    stop = folder / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(folder / "queue"), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        subprocess.run(
            [sys.executable, "-c", WRITER, transport, str(folder), str(MESSAGES), str(BODY_SIZE)],
            check=True,
            timeout=120,
        )
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=60)
    read, torn = (int(number) for number in output.split())
    return read, torn


def test_a_message_file_is_whole_from_the_moment_a_worker_can_see_it(tmp_path: Path) -> None:
    read, torn = _torn_reads("orderflow.broker:FilesystemTransport", tmp_path)

    assert torn == 0
    assert read <= MESSAGES
    assert len(list((tmp_path / "queue").glob("*.msg"))) == MESSAGES
    assert not list((tmp_path / "queue").glob(f"*{PARTIAL_SUFFIX}"))


def test_kombus_own_transport_shows_half_written_messages(tmp_path: Path) -> None:
    """Why orderflow.broker exists: the same reader catches the stock transport mid-write."""
    _read, torn = _torn_reads("kombu.transport.filesystem:Transport", tmp_path)

    assert torn > 0


def test_housekeeping_prunes_day_old_claimed_and_half_written_messages(tmp_path: Path, settings: Any) -> None:
    queue, processed = tmp_path / "queue", tmp_path / "processed"
    queue.mkdir()
    processed.mkdir()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(queue),
        "processed_folder": str(processed),
    }
    day_old = time.time() - 25 * 3600
    old_claimed, new_claimed = processed / "1_a.celery.msg", processed / "2_b.celery.msg"
    old_partial, new_partial = (
        queue / f"3_c.celery.msg{PARTIAL_SUFFIX}",
        queue / f"4_d.celery.msg{PARTIAL_SUFFIX}",
    )
    waiting = queue / "5_e.celery.msg"
    for path in (old_claimed, new_claimed, old_partial, new_partial, waiting):
        path.write_text("{}")
    for path in (old_claimed, old_partial, waiting):
        os.utime(path, (day_old, day_old))

    removed = prune_broker_folder()

    assert removed == 2
    assert not old_claimed.exists()
    assert not old_partial.exists()
    assert new_claimed.exists()
    assert new_partial.exists()
    assert waiting.exists(), "a message still waiting for a worker is never pruned"


def test_the_apps_filesystem_url_means_the_atomic_transport(settings: Any) -> None:
    from kombu import Connection

    from orderflow.broker import FilesystemTransport
    from orderflow.celery import app

    with app.connection_for_write("filesystem://localhost/") as connection:
        assert isinstance(connection.transport, FilesystemTransport)
    with Connection("redis://127.0.0.1:6379/0") as connection:
        assert not isinstance(connection.transport, FilesystemTransport)
