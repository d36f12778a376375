"""Realtime latency: from a task's progress event to WebSocket clients, with 200 connected.

A running platform (started here) renders a short story while 200 WebSocket clients of one
user are connected and subscribed to the render's task. For every message a client receives,
the latency is its arrival time minus the `updated_at` of the task record it carries. The
store stamps `updated_at` as it writes the record (after any wait for its write lock), so
the figure covers: the write's commit, the publish on NATS (`events.tasks.<id>`), the
gateway's consumer, its fan-out to all 200 sockets, and the client reading its socket. The
200 clients share this one process, on the same cores as the platform, so a busy machine
delays their reading too. Both clocks are this machine's.

Prints the count, p50, p99 and max, and p99 as a ratio of the 100 ms target. p99 is over
every message of the run (some 30 records × 200 sockets), so it is set by the slowest two or
three pushes of the render; p50 is a typical push. Run it on a quiet machine (other load
delays the platform and the clients alike) and note the load beside the figures. For:

- `embedded` (`storyreel up`): the gateway and every service in one process, so the gateway's
  event loop shares one interpreter (and its GIL) with the frames, speech and cut stages;
- `distributed` (`tests/cluster.py`): the gateway, each service, nats-server, MongoDB (nx-27017)
  and SeaweedFS S3 as their own processes, as the Kubernetes deployment runs them.

    .venv/bin/python bench/realtime.py [--deployment embedded|distributed|both] [--clients 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from storyreel_cli.platform_process import PlatformProcess

TARGET_MS = 100.0
STORY = "\n\n".join(
    [
        "# The Lighthouse",
        "Mara climbs the tower at dusk.",
        "A small boat drifts toward the rocks.",
        "Mara lights the great lamp.",
        "At dawn Tom climbs the stairs.",
    ]
)
OPTIONS = {"video": {"fps": 12, "resolution": "360p"}, "music": False}


def token_for(http: httpx.Client) -> str:
    creds = {"username": "rtbench", "email": "rtbench@example.com", "password": "bench-password-7"}
    r = http.post("/api/v1/auth/register", json=creds)
    if r.status_code == 409:
        r = http.post("/api/v1/auth/login", json=creds)
    r.raise_for_status()
    token: str = r.json()["data"]["access_token"]
    return token


def stamp_s(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def client(ws: ClientConnection, task_id: str, arrivals: list[tuple[float, str]]) -> None:
    """Receive until the task ends, noting each frame's arrival; frames are parsed after the
    run, so 200 clients in this one process do not queue behind each other's JSON parsing."""
    await ws.send(json.dumps({"type": "subscribe", "task_id": task_id}))
    while True:
        text = await ws.recv()
        arrivals.append((time.time(), str(text)))
        if str(text).startswith(('{"type": "task.completed"', '{"type": "task.failed"')):
            return


def latencies_ms(task_id: str, arrivals: list[tuple[float, str]]) -> list[float]:
    """Arrival minus the `updated_at` of the record each pushed message carries, in ms.

    The first task message after `subscribed` is the snapshot of the task as it stood when the
    client subscribed (its `updated_at` may be seconds old): it answers the subscription and is
    not a pushed event, so it is left out.
    """
    out = []
    snapshot_due = True
    for arrived, text in arrivals:
        message = json.loads(text)
        data = message.get("data") or {}
        if message.get("task_id") == task_id and data.get("updated_at"):
            if snapshot_due:
                snapshot_due = False
                continue
            out.append((arrived - stamp_s(data["updated_at"])) * 1000)
    return out


async def measure(url: str, token: str, clients: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
        ws_url = url.replace("http://", "ws://") + f"/api/v1/ws?token={token}"
        sockets = [await connect(ws_url, max_queue=None) for _ in range(clients)]
        for ws in sockets:
            await ws.recv()  # connected
        r = await http.post("/api/v1/pipeline/render", json={"story": STORY, "options": OPTIONS})
        r.raise_for_status()
        task_id = r.json()["data"]["task_id"]
        arrivals: list[list[tuple[float, str]]] = [[] for _ in sockets]
        try:
            receiving = (client(ws, task_id, a) for ws, a in zip(sockets, arrivals, strict=True))
            await asyncio.wait_for(asyncio.gather(*receiving), 600)
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
        return [ms for a in arrivals for ms in latencies_ms(task_id, a)]


def run_against(url: str, clients: int) -> list[float]:
    with httpx.Client(base_url=url, timeout=30) as http:
        token = token_for(http)
    return asyncio.run(measure(url, token, clients))


def embedded(clients: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="storyreel-rt-bench-") as tmp:
        proc = PlatformProcess(Path(tmp)).start()
        try:
            return run_against(proc.url, clients)
        finally:
            proc.stop()


def distributed(clients: int) -> list[float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from cluster import Cluster

    with (
        tempfile.TemporaryDirectory(prefix="storyreel-rt-bench-") as tmp,
        Cluster(Path(tmp) / "cluster") as cluster,
    ):
        return run_against(cluster.url, clients)


def report(deployment: str, clients: int, latencies: list[float]) -> None:
    if not latencies:
        sys.exit(f"{deployment}: no progress message arrived")
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{deployment}: clients {clients}, messages received {len(ordered)}")
    print(
        f"{deployment}: latency ms p50 {statistics.median(ordered):.1f}, p99 {p99:.1f},"
        f" max {ordered[-1]:.1f}; p99 / {TARGET_MS:.0f} ms target = {p99 / TARGET_MS:.2f}"
        " (target <= 1)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--deployment", choices=("embedded", "distributed", "both"), default="both")
    args = parser.parse_args()
    runs = {"embedded": embedded, "distributed": distributed}
    for name, run in runs.items():
        if args.deployment in (name, "both"):
            report(name, args.clients, run(args.clients))


if __name__ == "__main__":
    main()
