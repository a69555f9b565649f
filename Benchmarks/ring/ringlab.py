"""Shared helpers for the ring benchmarks: configs, node processes, distinct real JPEGs, catalog queries."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "release" / "trapline"
MODEL = ROOT / "Models" / "efficientnet-lite0.safetensors"
PHOTOS = [
    Path("/usr/share/darknet/data") / name
    for name in (
        "dog.jpg",
        "horses.jpg",
        "eagle.jpg",
        "giraffe.jpg",
        "person.jpg",
        "kite.jpg",
        "scream.jpg",
    )
]


def distinct_jpeg(source: bytes, number: int) -> bytes:
    """The same picture with a COM segment naming `number`: new bytes (a new content hash), same pixels."""
    assert source[:2] == b"\xff\xd8"
    text = f"trapline benchmark copy {number}".encode()
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return source[:2] + segment + source[2:]


def drop_copies(inbox: Path, count: int) -> None:
    """Writes `count` distinct copies of the real photos into `inbox`, each as `*.part` renamed to `img-N.jpg`."""
    sources = [p.read_bytes() for p in PHOTOS]
    for n in range(count):
        (inbox / f"{n}.part").write_bytes(distinct_jpeg(sources[n % len(sources)], n))
        (inbox / f"{n}.part").rename(inbox / f"img-{n}.jpg")


def write_config(path: Path, folder: Path, nodes: list[tuple[str, str, int]], **sections: dict) -> None:
    """A YAML config for a ring whose state lives under `folder`."""
    lines = [
        "watch:",
        f"  folder: {folder / 'inbox'}",
        "  settleSeconds: 0.2",
        "catalog:",
        f"  path: {folder / 'catalog.db'}",
        "model:",
        f"  path: {MODEL}",
        "ring:",
        "  nodes: [" + ", ".join(f'"{n}={h}:{p}"' for n, h, p in nodes) + "]",
        f"  credentials: {folder / 'credentials'}",
    ]
    for name, values in sections.items():
        if name != "ring":
            lines.append(f"{name}:")
        for key, value in values.items():
            lines.append(f"  {key}: {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")


class Node:
    """A `trapline run --node` process, optionally inside a network namespace and a cgroup."""

    def __init__(
        self,
        name: str,
        config: Path,
        log: Path,
        prefix: list[str] | None = None,
        cgroup: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.name = name
        environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", **(env or {}))
        command = [str(BINARY), "run", "--config", str(config), "--node", name]
        command = (prefix or []) + command
        if cgroup is not None:
            # Join the cgroup first, then exec: every thread the node starts stays in it.
            command = [
                "sh",
                "-c",
                f'echo $$ > {cgroup}/cgroup.procs && exec "$@"',
                "sh",
                *command,
            ]
        with open(log, "w") as handle:
            self.process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=environment)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_daemon(config: Path, log: Path) -> subprocess.Popen:
    """A single-node `trapline run` with one BLAS thread, its output appended to `log`."""
    with open(log, "a") as handle:
        return subprocess.Popen(
            [str(BINARY), "run", "--config", str(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={"OPENBLAS_NUM_THREADS": "1"},
        )


def query(catalog: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=10)) as db:
        return db.execute(sql, args).fetchall()


def wait_for(condition, timeout: float, step: float = 0.2) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if condition():
                return True
        except sqlite3.Error:
            pass
        time.sleep(step)
    return False


def labelled(catalog: Path) -> int:
    if not catalog.exists():
        return 0
    return query(catalog, "SELECT COUNT(*) FROM media WHERE status != 'pending'")[0][0]


def joined(catalog: Path, names: list[str]) -> bool:
    if not catalog.exists():
        return False
    rows = query(
        catalog,
        "SELECT DISTINCT node FROM controller_events WHERE kind IN ('join', 'readmit')",
    )
    return set(names) <= {row[0] for row in rows}
