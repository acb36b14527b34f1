"""Test certificates, made with the openssl CLI: a mesh CA with SPIFFE
workload certificates (ECDSA P-256 and RSA-2048), and a foreign CA.

Usage: certs = make_pki(tmp_path); certs.path("server.crt"), certs.pem("ca.crt").
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

TRUST_DOMAIN = "cluster.local"


def spiffe(ns: str, sa: str) -> str:
    return f"spiffe://{TRUST_DOMAIN}/ns/{ns}/sa/{sa}"


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _key(name: str, cwd: Path, rsa: bool = False) -> None:
    if rsa:
        _run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{name}.key", cwd=cwd)
    else:
        _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=cwd)


def _ca(name: str, cwd: Path) -> None:
    _key(name, cwd)
    _run("req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.crt", "-days", "30",
         "-subj", f"/O=Remora tests/CN={name}", "-addext", "basicConstraints=critical,CA:true",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=cwd)


def _leaf(name: str, ca: str, sans: list[str], cwd: Path, rsa: bool = False, days: int = 30) -> None:
    _key(name, cwd, rsa)
    _run("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/O=Remora tests/CN={name}", cwd=cwd)
    ext = cwd / f"{name}.ext"
    ext.write_text("basicConstraints=CA:false\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth,clientAuth\n"
                   f"subjectAltName={','.join(sans)}\n")
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
         "-out", f"{name}.crt", "-days", str(days), "-extfile", ext.name, cwd=cwd)


@dataclass
class PKI:
    root: Path

    def path(self, name: str) -> str:
        return str(self.root / name)

    def pem(self, name: str) -> str:
        return (self.root / name).read_text()


_cache: dict[Path, PKI] = {}


def make_pki(root: Path) -> PKI:
    """mesh-ca signs: server (ECDSA, SPIFFE ns/default/sa/server, DNS
    server.local, IP 127.0.0.1), client (ECDSA, SPIFFE ns/default/sa/client),
    other (SPIFFE ns/other/sa/intruder), server-rsa (RSA-2048, same
    identity as server); foreign-ca signs foreign (SPIFFE ns/default/sa/client)."""
    root.mkdir(parents=True, exist_ok=True)
    if root in _cache:
        return _cache[root]
    _ca("mesh-ca", root)
    _ca("foreign-ca", root)
    _leaf("server", "mesh-ca", [f"URI:{spiffe('default', 'server')}", "DNS:server.local", "IP:127.0.0.1"], root)
    _leaf("server-rsa", "mesh-ca", [f"URI:{spiffe('default', 'server')}", "DNS:server.local", "IP:127.0.0.1"], root, rsa=True)
    _leaf("client", "mesh-ca", [f"URI:{spiffe('default', 'client')}"], root)
    _leaf("other", "mesh-ca", [f"URI:{spiffe('other', 'intruder')}", "DNS:intruder.local"], root)
    _leaf("foreign", "foreign-ca", [f"URI:{spiffe('default', 'client')}"], root)
    pki = PKI(root)
    _cache[root] = pki
    return pki
