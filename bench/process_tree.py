"""A running platform's process tree read from /proc (Linux): who its processes are, and the
CPU time each spent, so a bench can say where a render's seconds went."""

from __future__ import annotations

import os

# /proc/PID/stat counts CPU time in clock ticks (proc(5)): utime, stime, cutime, cstime are
# fields 14-17, counted from 1, of which the first two follow the command's closing ")".
_TICK = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (any of its threads'); [] once it has gone."""
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def tree(root_pid: int) -> list[int]:
    """`root_pid` and every descendant still running, root first."""
    todo, seen = [root_pid], []
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo += children(pid)
    return seen


def _times(pid: int) -> tuple[str, float, float] | None:
    """(name, own CPU s, reaped children's CPU s) of one process, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return name, (utime + stime) / _TICK, (cutime + cstime) / _TICK


def cpu_seconds(root_pid: int) -> dict[str, float]:
    """CPU seconds spent so far by the tree under `root_pid`, by kind:
    `self` (the root process), `subprocesses` (its children that have ended and been
    reaped: the platform's ffmpeg runs) and each running descendant by its name (summed per
    name: nats-server, an ffmpeg still running). Two readings' difference is the CPU spent
    between them, as long as a child that ran between them was reaped by the root."""
    out: dict[str, float] = {}
    for pid in tree(root_pid):
        found = _times(pid)
        if found is None:
            continue
        name, own, reaped = found
        if pid == root_pid:
            out["self"] = own
            out["subprocesses"] = reaped
        else:
            out[name] = out.get(name, 0.0) + own
    return out
