"""`make proto`: regenerate the committed gRPC stubs; `--check` fails when they are stale.

Stubs import each other as `storyreel.v1.*`; we rewrite that to the package they live in, so the
generated tree imports cleanly from `storyreel_core.proto`.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

PACKAGE = "storyreel_core.proto"


def generate(src: Path, out: Path) -> None:
    protos = sorted(str(p.relative_to(src)) for p in src.rglob("*.proto"))
    include = str(resources.files("grpc_tools") / "_proto")
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    args = [
        "grpc_tools.protoc",
        f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
        f"-I{src}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in out.rglob("*.py*"):
        text = path.read_text()
        text = text.replace("from storyreel.v1 import", f"from {PACKAGE}.storyreel.v1 import")
        text = text.replace("import storyreel.v1.", f"import {PACKAGE}.storyreel.v1.")
        path.write_text(text)
    for folder in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()


def same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(
        p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    files_b = sorted(
        p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    if files_a != files_b:
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--check", action="store_true")
    opts = parser.parse_args()
    if opts.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "proto"
            generate(opts.src, fresh)
            if not opts.out.exists() or not same_tree(fresh, opts.out):
                print(
                    "gRPC stubs are stale: run `make proto` and commit the result", file=sys.stderr
                )
                raise SystemExit(1)
        print("gRPC stubs are up to date")
        return
    if opts.out.exists():
        shutil.rmtree(opts.out)
    generate(opts.src, opts.out)


if __name__ == "__main__":
    main()
