"""Each student kernel in a sandbox: `nbgrader autograde` runs a student's notebook in a
kernel that can read its own working copy and the installed course environment, and
nothing else.

Design. nbgrader executes a notebook with nbclient, which starts the kernel through a
jupyter_client kernel manager and keeps the executed notebook in memory: grades and the
graded notebook are written by the grader's own process, never read back from the kernel's
folder. So the sandbox is a kernel manager (`SandboxedKernelManager`), plugged into
nbgrader's `Execute` step by `SandboxedExecute` (nbgrader_config.py swaps it in). For each
notebook it:

- picks a fresh numeric uid (no user account needed) that no process uses, so that every
  process the kernel starts can be found and killed, daemons that left its session included;
- copies the notebook's folder, read-only and without its notebooks (the one being graded
  holds the restored hidden tests), into a size-capped private home (a tmpfs) that is the
  kernel's working directory; /tmp is another small tmpfs; the copy is throw-away;
- starts the kernel with bubblewrap (`bwrap`) in new mount, network, pid, ipc and uts
  namespaces: the file system holds only read-only binds of /usr (and the /lib, /bin
  links), a few /etc files, the venv, the base Python it was made from and the source
  folders of `bplib` and `grading` (installed in editable mode); never the course folder
  itself (solutions/, gradebook.db, submitted/, autograded/), nor the instructor's home;
- binds over the folders of automatic-differentiation packages (autograd, torch, jax:
  grading/stubs.py's BLOCKED) a package whose import fails;
- binds over bplib's folder the grading build of bplib (grading/stubs.py): the functions
  the graded tasks ask for are stubs there, so neither the kernel nor any process it starts
  nor a file it reads can reach bplib's own versions;
- talks to the kernel over ZeroMQ `ipc` sockets in a private directory bound into the
  sandbox, since the kernel has no network, not even loopback to the host; that directory
  is a 1 MB tmpfs mounted for this kernel alone: nothing of the host's disk is writable
  from the sandbox;
- drops to the fresh uid with `setpriv` (no groups, no capabilities, no new privileges) and
  sets resource limits with `prlimit`: address space (memory), processes (fork storms),
  CPU seconds, file size and no core dumps;
- kills the kernel when the whole notebook exceeds its assignment's wall budget
  (WALL_BUDGET, about ten times an honest notebook's cost; `wall_seconds` for an assignment
  the table does not name): nbgrader's
  `Execute.timeout` only bounds each cell, so many slow cells could otherwise cost that
  timeout many times over. The submission then gets no score, and `nbgrader autograde`
  reports it and grades the others; its reason is a WallBudgetError, "the notebook ran
  longer than the wall budget of N s and was stopped", not the DeadKernelError ("Kernel
  died") of a kernel the student's own code ended (`os._exit`, a crash);
- reads the kernel's messages carefully: a message whose content the grader cannot decode
  (an int of thousands of digits, a list nested thousands deep, sent by the student's code
  as a raw output) becomes a plain-text output saying so (UNREADABLE), not a crash of the
  grader that would leave the student ungraded;
- when the kernel ends, kills every process of its uid, then deletes its directories. The
  pid namespace does the same independently: when the sandbox's first process dies, the
  kernel kills everything left in it.

Without root, bubblewrap or namespaces (or with `BP_SANDBOX=off`), grading still works: the
kernel runs as the instructor, in the notebook's folder, with the network, and a warning
saying so is logged for every notebook. The kernel still imports the grading build of
bplib (first on its PYTHONPATH) and seals it, but bplib's own files are on disk for the
student's code to read or import. Only the memory, CPU, file-size and wall-clock
limits remain (no process cap), and the cleanup kills just the kernel's process group.

Check it: `python grading/sandbox.py` prints whether the sandbox is active here and why
not if it is not.
"""

import functools
import glob
import importlib.metadata
import importlib.util
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.parse

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, default

try:
    from . import record, stubs
except ImportError:  # run as a script: python grading/sandbox.py
    import record
    import stubs

# Far above any uid a system hands out, below the 32-bit limit: uids nobody else uses.
UID_RANGE = (1_900_000_000, 2_000_000_000)
HOME = "/home/student"
# Course packages a student's kernel imports: bplib, and the check API of grading/.
KERNEL_PACKAGES = ("bplib", "grading")
# The grader's environment variables the kernel keeps (others may hold the instructor's
# secrets).
KEPT_ENV = ("LANG", "LC_", "TZ", "NBGRADER_", "JPY_", "PYDEVD_")
# Seconds of wall clock a whole notebook may take, kernel start included, per assignment:
# about ten times what an honest notebook costs with the sandbox on (2 to 3 s on an idle
# 2-core machine, kernel start included; `make bench-grading`), so that a loaded machine
# does not cut an honest student short. Assignment 5's Task 4 searches a grid in the
# student's kernel (18 runs of 4 epochs of a small network: about a second).
# check_wall_budget() compares an entry with a measured honest run.
WALL_BUDGET = {
    "01-telephone": 25,
    "02-chain-rule-graphs": 25,
    "03-composite": 25,
    "04-per-neuron": 25,
    "05-full-algorithm": 30,
}
# The budget must leave this many honest runs' time (a loaded machine), and not more than
# the larger factor (a budget that large lets a slow submission cost the class too much).
BUDGET_FACTORS = (5, 30)
RUN_TMPFS_SIZE = "1m"  # the socket folder: sockets and the connection file only
LOST = ("student code runs as {user}, in the submission's folder, with every file {user} "
        "can read or write (solutions/, gradebook.db, other students' work, bplib's own "
        "versions of what the tasks ask for, which its kernel imports stubbed) and with the "
        "network; only the memory, CPU and wall-clock limits apply")


@functools.cache
def unavailable_reason():
    """Why the kernel cannot be isolated here (None when it can)."""
    if os.environ.get("BP_SANDBOX", "on").lower() in ("0", "off", "no", "false"):
        return "BP_SANDBOX=off"
    if os.geteuid() != 0:
        return "not running as root (a kernel cannot get its own uid)"
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-net",
                            "--unshare-pid", "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()}"
    return None


def wall_budget(assignment, ceiling=None):
    """The wall-clock seconds a notebook of `assignment` may take: its WALL_BUDGET entry,
    at most `ceiling` (SandboxedKernelManager.wall_seconds), which is also the budget of
    an assignment the table does not name."""
    budget = WALL_BUDGET.get(assignment, ceiling)
    return budget if ceiling is None or budget is None else min(budget, ceiling)


def check_wall_budget(assignment, honest_seconds):
    """None if the assignment's budget fits an honest notebook's measured cost in seconds
    (BUDGET_FACTORS times it), else the problem, for `make release` (which measures the
    CPU time of an honest run: grading.cli.timed_validation)."""
    budget = WALL_BUDGET.get(assignment)
    if budget is None:
        return f"{assignment} has no wall budget in grading/sandbox.py's WALL_BUDGET"
    low, high = BUDGET_FACTORS
    where = ("WALL_BUDGET in grading/sandbox.py is the course authors' setting, not "
             "nbgrader_config.py's")
    if budget < low * honest_seconds:
        return (f"{assignment}: the wall budget {budget} s is less than {low} times an honest "
                f"run on this machine ({honest_seconds:.1f} s of CPU time), so a busy "
                f"grading machine could stop honest submissions. {where}: ask them to raise "
                f"it to at least {math.ceil(low * honest_seconds)} s, or raise it in your "
                "copy and tell them")
    if budget > high * honest_seconds:
        return (f"{assignment}: the wall budget {budget} s is more than {high} times an honest "
                f"run on this machine ({honest_seconds:.1f} s of CPU time), so an endless "
                f"loop costs {budget} s of grading where {math.floor(high * honest_seconds)} "
                f"s would do. {where}: ask them to lower it, or lower it in your copy and "
                "tell them")
    return None


def honest_seconds(notebook_path, timeout=600):
    """The wall time of one run of an instructor notebook in a fresh kernel (nbclient, in
    its folder, NBGRADER_EXECUTION=autograde as when grading): what check_wall_budget()
    takes as the honest cost."""
    import nbclient
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    env = dict(os.environ, NBGRADER_EXECUTION="autograde")
    client = nbclient.NotebookClient(
        notebook, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(notebook_path))}})
    start = time.perf_counter()
    old = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return time.perf_counter() - start


def mount_tmpfs(folder, uid, size=RUN_TMPFS_SIZE):
    """Mount a small tmpfs owned by uid on folder (root only)."""
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size={size},mode=0700,uid={uid},gid={uid},nosuid,nodev,noexec",
                    "tmpfs", folder], check=True, capture_output=True)


def unmount(folder):
    subprocess.run(["umount", "-l", folder], capture_output=True)


def uid_of_process(pid):
    """The real uid of a process, or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return None
    if fields.get("State", "").strip().startswith("Z"):
        return None
    return int(fields["Uid"].split()[0])


def processes_of(uid):
    """Pids of the live processes whose real uid is `uid`."""
    return [int(pid) for pid in os.listdir("/proc")
            if pid.isdigit() and uid_of_process(pid) == uid]


def kill_uid(uid, tries=50):
    """Kill every process of `uid`: kill(-1) run as that uid reaches all of them at once,
    forks in flight included; repeat until none is left."""
    for _ in range(tries):
        if not processes_of(uid):
            return True
        subprocess.run(["kill", "-KILL", "-1"], user=uid, group=uid,
                       extra_groups=[], stderr=subprocess.DEVNULL)
        time.sleep(0.02)
    return not processes_of(uid)


def free_uid():
    """A uid in UID_RANGE that no process uses."""
    while True:
        uid = random.randrange(*UID_RANGE)
        if not processes_of(uid):
            return uid


def readable_copy(source, target):
    """Copy a folder so that any uid can read it (and no one but root can change it).

    Symbolic links are copied as links, never followed: a student's link to solutions/
    must not bring the solutions along; inside the sandbox it points nowhere.

    Notebooks are left out. nbgrader executes the notebook it has already written to the
    autograded folder with every hidden test restored, references and all (the probe cut
    happens in memory, in the grader's process), so a kernel that read its own notebook
    from disk would read every `expect=` and `hidden_...` helper, run them, and print them
    encoded past the leak scan. The kernel never needs the file: the grader sends it each
    cell.
    """
    shutil.copytree(source, target, symlinks=True,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    for folder, _, files in os.walk(target):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def editable_source(package):
    """[the folder an editable install of package points to], or []."""
    try:
        text = importlib.metadata.distribution(package).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return []
    info = json.loads(text or "{}")
    url = info.get("url", "")
    if info.get("dir_info", {}).get("editable") and url.startswith("file://"):
        return [urllib.parse.unquote(url[len("file://"):])]
    return []


def environment_binds():
    """Read-only binds (real paths) the kernel needs: the venv, its base Python, and the
    source folders of the course's packages, which the venv installs in editable mode
    (code only: the solutions stay in solutions/)."""
    paths = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"]}
    for package in KERNEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            paths.update(spec.submodule_search_locations)
        # The kernel imports the editable install, which may be another folder than the
        # one this process found first (a copy of the course in the current folder).
        paths.update(editable_source(package))
    paths = sorted({os.path.realpath(path) for path in paths})
    # Anything under /usr is there already; a path inside another one needs no bind.
    return [path for path in paths if not path.startswith("/usr/")
            and not any(path.startswith(other + "/") for other in paths)]


def bplib_folders():
    """The real folders the kernel may import bplib from: the grading build is bound over
    each of them."""
    spec = importlib.util.find_spec("bplib")
    folders = set(spec.submodule_search_locations or []) if spec else set()
    folders.update(editable_source("bplib"))
    return sorted({os.path.realpath(folder) for folder in folders})


def grader_only_folders(binds):
    """The data folders of the grading package inside the kernel's binds: what only the
    grader's process may read (grading/holdout.py loads from there)."""
    sources = {os.path.dirname(os.path.realpath(__file__)),
               *(os.path.realpath(path) for path in editable_source("grading"))}
    return sorted(os.path.join(source, "data") for source in sources
                  if os.path.isdir(os.path.join(source, "data"))
                  and any(source == bind or source.startswith(bind + "/") for bind in binds))


def parents(paths):
    """Every folder above the given paths except /, /tmp and /usr, shallowest first."""
    found = set()
    for path in paths:
        folder = os.path.dirname(path)
        while folder not in ("/", "/tmp", "/usr"):
            found.add(folder)
            folder = os.path.dirname(folder)
    return sorted(found, key=lambda folder: (folder.count("/"), folder))


UNREADABLE = "(an output the grader could not read)"


def careful(unpack):
    """unpack, but a part of a message it cannot decode (JSON past Python's limits: an int
    of more than 4300 digits, lists nested past the recursion limit; bytes that are not
    JSON) becomes a content that every output message type reads as a note: a check
    result that is not plain data, in its place, so the grader goes on and that check
    fails with its message."""
    @functools.wraps(unpack)
    def unpack_carefully(data):
        try:
            return unpack(data)
        except (ValueError, RecursionError, MemoryError):
            return {"name": "stdout", "text": UNREADABLE + "\n", "metadata": {},
                    "data": {record.MIME: {"unsupported": UNREADABLE},
                             "text/plain": UNREADABLE}, "transient": {},
                    "status": "ok", "execution_count": None}
    return unpack_carefully


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts each kernel in its own sandbox (see the module doc)."""

    memory_mb = Integer(2048, config=True, help="Address-space limit per kernel process.")
    max_processes = Integer(64, config=True,
                            help="Processes and threads the kernel's uid may have at once.")
    cpu_seconds = Integer(600, config=True, help="CPU-time limit per kernel process.")
    wall_seconds = Integer(600, config=True,
                           help="Wall-clock limit for a whole notebook; then it is killed.")
    disk_mb = Integer(64, config=True,
                      help="Size of the kernel's home and of its /tmp, and largest file.")
    enabled = Bool(True, config=True,
                   help="False runs kernels unisolated (with a warning).")

    _scratch = _uid = _timer = _stub = None
    _wall = 0
    stopped_after = None  # the wall budget, in seconds, once it stopped the kernel

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the kernel client nbclient makes shares this session: it decodes every message
        self.session.unpack = careful(self.session.unpack)

    @default("shutdown_wait_time")
    def _short_shutdown_wait(self):
        # An honest kernel stops at once; a busy one would cost the 5 s default twice over.
        return 1.0

    @property
    def isolated(self):
        return self._uid is not None

    async def _async_pre_start_kernel(self, **kw):
        reason = (unavailable_reason() if self.enabled
                  else "SandboxedKernelManager.enabled=False")
        self.stopped_after = None
        workdir = kw.get("cwd")
        if reason:
            self.log.warning("Grading sandbox OFF (%s): %s.", reason,
                             LOST.format(user=os.environ.get("USER", "you")))
        else:
            self._uid = free_uid()
            self._scratch = tempfile.mkdtemp(prefix="bp-sandbox-")
            run = os.path.join(self._scratch, "run")
            os.mkdir(run, 0o700)
            mount_tmpfs(run, self._uid)
            if workdir:
                readable_copy(workdir, os.path.join(self._scratch, "work"))
            # ZeroMQ over unix sockets the kernel creates in its own directory.
            self.transport = "ipc"
            self.ip = os.path.join(run, "k")
            self.connection_file = os.path.join(run, "connection.json")
        # bplib without what the tasks ask for: stubs until a grader's cell gives what a
        # later task builds on (one build for every assignment, made once per bplib
        # source, then reused)
        self._stub = stubs.build()
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = self._environment(kw.get("env") or os.environ)
        if self.isolated:
            os.chown(self.connection_file, self._uid, self._uid)
            cmd = self._bwrap() + self._setpriv() + self._limits() + cmd
            # Else jupyter_client passes its pid, which means nothing in the pid namespace;
            # bwrap's --die-with-parent does that job.
            kw["independent"] = True
            self.log.info("Grading sandbox: the kernel for %s runs as uid %d, no network, "
                          "%d MB, %d processes, %d s.", workdir, self._uid, self.memory_mb,
                          self.max_processes, wall_budget(os.path.basename(
                              os.path.normpath(workdir or ".")), self.wall_seconds))
        else:
            cmd = self._limits() + cmd
        self._wall = wall_budget(os.path.basename(os.path.normpath(workdir or ".")),
                                 self.wall_seconds)
        self._timer = threading.Timer(self._wall, self._time_out, args=[workdir])
        self._timer.daemon = True
        self._timer.start()
        return cmd, kw

    def _environment(self, env):
        kept = dict(env)
        if self.isolated:
            kept = {key: value for key, value in env.items() if key.startswith(KEPT_ENV)}
        # One BLAS thread: threads count as processes, and grading runs one kernel at a
        # time.
        kept.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        if self.isolated:
            kept.update(HOME=HOME, USER="student", LOGNAME="student", TMPDIR="/tmp",
                        PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
                        MPLCONFIGDIR=f"{HOME}/.matplotlib")
        elif self._stub:
            # before the editable install's finder, which comes after sys.path
            kept["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(self._stub), kept.get("PYTHONPATH")]))
        return kept

    def _limits(self):
        mb = 1024 * 1024
        limits = ["prlimit", f"--as={self.memory_mb * mb}", f"--cpu={self.cpu_seconds}",
                  f"--fsize={self.disk_mb * mb}", "--core=0"]
        if self.isolated:
            # RLIMIT_NPROC counts every process of the uid: the instructor's own uid has
            # many, so the cap only means something for the kernel's own uid.
            limits.append(f"--nproc={self.max_processes}")
        return limits + ["--"]

    def _setpriv(self):
        return ["setpriv", f"--reuid={self._uid}", f"--regid={self._uid}", "--clear-groups",
                "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]

    def _bwrap(self):
        size = str(self.disk_mb * 1024 * 1024)
        args = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--die-with-parent", "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for name in ("ld.so.cache", "localtime", "alternatives", "fonts"):
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        run = os.path.dirname(self.connection_file)
        binds = environment_binds()
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
        # bwrap would create the folders above each mount point with the grader's umask.
        for folder in parents([*binds, HOME, run]):
            args += ["--perms", "0755", "--dir", folder]
        args += ["--perms", "1777", "--size", size, "--tmpfs", HOME]
        for path in binds:
            args += ["--ro-bind", path, path]
        # The grader's own data (Assignment 5's held-out digits) is bound with the grading
        # package's code: an empty folder takes its place, or a student could train on it.
        for folder in grader_only_folders(binds):
            args += ["--perms", "0555", "--size", "4096", "--tmpfs", folder]
        # bplib's own folder is never seen: the grading build takes its place
        for folder in bplib_folders():
            args += ["--ro-bind", os.path.join(self._stub, "bplib"), folder]
        # no automatic differentiation: each package's folder holds an import that fails
        for name, folders in stubs.blocked_folders().items():
            for folder in folders:
                if os.path.isdir(folder) and folder != os.path.join(self._stub, name):
                    args += ["--ro-bind", os.path.join(self._stub, name), folder]
        work = os.path.join(self._scratch, "work")
        for name in sorted(os.listdir(work)) if os.path.isdir(work) else []:
            path = os.path.join(work, name)
            if os.path.islink(path):  # bwrap would follow it, as root
                args += ["--symlink", os.readlink(path), f"{HOME}/{name}"]
            else:
                args += ["--ro-bind", path, f"{HOME}/{name}"]
        # Matplotlib's font list, so that each kernel does not spend seconds rebuilding it;
        # matplotlib ignores a config folder it cannot write to.
        args += ["--perms", "1777", "--dir", f"{HOME}/.matplotlib"]
        for path in glob.glob(os.path.expanduser("~/.cache/matplotlib/fontlist-*.json")):
            args += ["--ro-bind", path, f"{HOME}/.matplotlib/{os.path.basename(path)}"]
        return args + ["--bind", run, run, "--chdir", HOME, "--"]

    def _time_out(self, workdir):
        self.log.error("Grading sandbox: %s ran longer than %d s; its kernel is killed.",
                       workdir, self._wall)
        self.stopped_after = self._wall
        self._kill_everything()

    def _kill_everything(self):
        if self.isolated:
            if not kill_uid(self._uid):
                self.log.error("Grading sandbox: processes of uid %d survived", self._uid)
        elif self.provisioner is not None and getattr(self.provisioner, "pgid", None):
            try:
                os.killpg(self.provisioner.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def _async_signal_kernel(self, signum):
        # The process group jupyter_client signals is bwrap's, which would die of a SIGINT:
        # signal the kernel's own processes instead, as Ctrl-C would.
        if not self.isolated:
            return await super()._async_signal_kernel(signum)
        for pid in processes_of(self._uid):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._timer is None:  # never started, or cleaned up already
            return
        self._timer.cancel()
        self._kill_everything()
        if self._scratch:
            unmount(os.path.join(self._scratch, "run"))
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch = self._uid = self._timer = self._stub = None

    # nbclient calls cleanup_resources() itself when the kernel has died, and
    # AsyncKernelManager binds that name to the base method, not to this override.
    cleanup_resources = _async_cleanup_resources


class WallBudgetError(DeadKernelError):
    """A notebook stopped by its wall budget: its kernel did not die, the grader killed it.
    The message is the reason the summary, grades.csv and the LMS files give."""

    def __init__(self, seconds):
        super().__init__(f"the notebook ran longer than the wall budget of {seconds} s and "
                         "was stopped (an endless loop, or code far slower than needed)")


class SandboxedExecute(Execute):
    """nbgrader's Execute step, with each notebook's kernel in a sandbox.

    A cell's outputs are what it showed while it ran: a display update sent later (a
    `display_id` shown by an early cell, then `update_display` from a hook that runs before
    each test cell) would rewrite an output from before any hidden code ran, which the
    feedback shows, with whatever the kernel learnt since (the hidden tests' code)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    _manager = None

    def _update_display_id(self, display_id, msg):
        return None  # no output is ever changed after it was shown

    def create_kernel_manager(self):
        # nbclient forgets its manager when the kernel is cleaned up; the reason needs it
        self._manager = super().create_kernel_manager()
        return self._manager

    def preprocess(self, nb, resources=None, km=None):
        self._manager = km
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError as died:
            seconds = getattr(self._manager, "stopped_after", None)
            if seconds is None or isinstance(died, WallBudgetError):
                raise
            raise WallBudgetError(seconds) from None


def check_kernel(code="print(6 * 7)", timeout=120):
    """Start one real sandboxed kernel, as grading does, and run one line in it: return
    its printed output. The kernel's own messages (a venv it cannot run, a bind that
    fails) go to this process's stderr; a kernel that cannot start raises RuntimeError."""
    import asyncio

    async def run():
        manager = SandboxedKernelManager(kernel_name="python3")
        with tempfile.TemporaryDirectory() as work:
            await manager.start_kernel(cwd=work)
            client = manager.client()
            client.start_channels()
            printed = []
            try:
                await client.wait_for_ready(timeout=timeout)
                reply = await client.execute_interactive(
                    code, timeout=timeout, output_hook=lambda msg: printed.append(
                        msg["content"].get("text", "")
                        if msg["header"]["msg_type"] == "stream" else ""))
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"the line {code!r} failed in the kernel: "
                                       f"{reply['content'].get('ename')}")
            finally:
                client.stop_channels()
                await manager.shutdown_kernel(now=True)
            return "".join(printed)

    return asyncio.run(run())


if __name__ == "__main__":
    problem = unavailable_reason()
    if problem:
        print(f"Grading sandbox OFF here ({problem}): {LOST.format(user='you')}.")
        sys.exit(1)
    # bwrap working is not enough: the kernel itself must start inside it (a .venv that is
    # a symlink, or a moved one, cannot be bound and run there)
    try:
        printed = check_kernel()
    except Exception as error:
        print(f"Grading sandbox: bwrap works, but a sandboxed kernel could not run one line "
              f"({type(error).__name__}: {error}); the kernel's own messages are above. "
              "Nothing can be graded until it does (is .venv a symlink, or shared with "
              "another copy of the course? make setup in this copy)", file=sys.stderr)
        sys.exit(1)
    if printed.strip() != "42":
        print(f"Grading sandbox: a sandboxed kernel printed {printed!r}, not 42",
              file=sys.stderr)
        sys.exit(1)
    print("Grading sandbox ON: each kernel runs as its own uid in bubblewrap, no network "
          "(a sandboxed kernel started and ran one line).")
