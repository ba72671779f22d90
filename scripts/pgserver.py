"""A throw-away PostgreSQL server on 127.0.0.1 for the tests, from Debian's postgresql package
(its initdb and pg_ctl; `make test` installs it where it is missing). PostgreSQL will not run as
root, so as root the server runs as the `postgres` user in a folder it owns.

    python -m scripts.pgserver [FOLDER [PORT]]   # serves until Ctrl-C (docs/deploy.md's example)
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: Debian keeps them out of PATH, one folder a version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb into `folder` (a new one under the system's temporary folder by default: the
    `postgres` user must be able to reach it), then pg_ctl start on a free loopback port; `url`
    reaches it."""

    def __init__(self, folder: Path | None = None, port: int | None = None):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's initdb was not found (Debian: apt-get install postgresql)")
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="askbrief-pg-"))
        self.port = port or free_port()
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.url = f"postgresql://askbrief@127.0.0.1:{self.port}/postgres"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> "PostgresServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "askbrief", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        # fsync off: a test server's durability is not under test (askbrief's writes are, at its level)
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start; see {self.log}")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    server = PostgresServer(Path(sys.argv[1]) if len(sys.argv) > 1 else None,
                            int(sys.argv[2]) if len(sys.argv) > 2 else None).start()
    print(f"ASKBRIEF_STORE_URL={server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
