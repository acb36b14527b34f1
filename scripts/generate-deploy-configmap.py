#!/usr/bin/env python3
"""Writes deploy/bootstrap-configmap.yaml: examples/istio-sidecar.yaml as the
ConfigMap the sidecar mounts (key bootstrap.yaml, read by `remora -c
/etc/remora/bootstrap.yaml` in deploy/httpbin.yaml).

Usage: scripts/generate-deploy-configmap.py   (no arguments; standard library only)

Run it after changing the example; Tests/Interop/test_packaging.py fails while
the ConfigMap's bootstrap differs from the example byte for byte. The file is
committed (not made by kustomize's configMapGenerator) so that `kubectl apply
-f deploy/` works as it is, and kustomize would not read a file outside deploy/
without --load-restrictor.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "examples/istio-sidecar.yaml"
TARGET = "deploy/bootstrap-configmap.yaml"
NAME = "remora-bootstrap"
KEY = "bootstrap.yaml"


def literal_block(text: str, indent: str) -> str:
    """`text` as a YAML literal block scalar whose content is `text` exactly."""
    if "\r" in text:
        sys.exit(f"{SOURCE}: carriage returns cannot go in a literal block")
    first = next((line for line in text.split("\n") if line.strip()), "")
    if first[:1] in (" ", "\t"):
        sys.exit(f"{SOURCE}: the first line starts with white space; a literal block would need an indentation indicator")
    chomp = "-" if not text.endswith("\n") else ("+" if text.endswith("\n\n") else "")
    body = text[:-1] if text.endswith("\n") else text
    lines = [indent + line if line else "" for line in body.split("\n")]
    return "|" + chomp + "\n" + "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    bootstrap = (ROOT / SOURCE).read_text(encoding="utf-8")
    out = (
        f"# Generated from {SOURCE} by scripts/generate-deploy-configmap.py; edit the\n"
        "# example and re-run the script (Tests/Interop/test_packaging.py checks the two agree).\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        f"  name: {NAME}\n"
        "  labels:\n"
        "    app.kubernetes.io/name: remora\n"
        "data:\n"
        f"  {KEY}: " + literal_block(bootstrap, "    ")
    )
    (ROOT / TARGET).write_text(out, encoding="utf-8")


if __name__ == "__main__":
    main()
