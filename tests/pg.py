"""A throw-away PostgreSQL cluster for tests: initdb in a temporary folder, as an
unprivileged user, listening on 127.0.0.1 only; stopped and removed by stop()."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

NOBODY = 65534  # Debian's nobody / nogroup


def postgres_bin():
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<v>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` "
                           "(make test installs it)")
    return found[-1].parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self):
        # Its own folder in /tmp: pytest's temporary folders are closed to other users.
        self.folder = Path(tempfile.mkdtemp(prefix="bpcourse-pg-"))
        self.bin, self.port, self.data = postgres_bin(), free_port(), self.folder / "data"
        # PostgreSQL refuses to run as root: as root, the cluster belongs to nobody.
        self.as_user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                        "--clear-groups"] if os.geteuid() == 0 else []
        if self.as_user:
            os.chown(self.folder, NOBODY, NOBODY)

    def run(self, tool, *args):
        result = subprocess.run([*self.as_user, str(self.bin / tool), *args],
                                capture_output=True, text=True, timeout=120,
                                cwd=self.folder, env=dict(os.environ, LC_ALL="C.UTF-8"))
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}\n{result.stderr}")
        return result

    def start(self):
        self.run("initdb", "-D", str(self.data), "-U", "grader", "-A", "trust", "--no-sync",
                 "-E", "UTF8")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c max_connections=50")
        self.run("pg_ctl", "-D", str(self.data), "-o", options,
                 "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def create_database(self, name):
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "grader", name)
        return f"postgresql+psycopg://grader@127.0.0.1:{self.port}/{name}"

    def stop(self):
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
