"""The grading sandbox (grading/sandbox.py) against hostile submissions.

A temporary copy of the course grades one batch with the instructor's own command,
`nbgrader autograde`, under tight limits: honest students first and last, a victim whose
files others attack, and submissions that read what they must not, write to other
students' files, leave a daemon behind, loop, hog memory, fork without end or open a
connection to a port the test listens on. Each attack cell prints what it managed to do,
so the tests can tell "blocked" from "not tried".
"""

import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import nbformat
import pytest

from conftest import BIN, REPO, gradebook_scores, honest_submission

sys.path.insert(0, str(REPO))
from grading.holdout import HOLDOUT_FILE  # noqa: E402
from grading.sandbox import unavailable_reason  # noqa: E402

ASSIGNMENT = sorted(folder.name for folder in (REPO / "solutions").iterdir()
                    if folder.is_dir() and any(folder.glob("*.ipynb")))[0]
# Tight limits, so that the whole file runs in a few minutes.
CELL_SECONDS = 8
WALL_SECONDS = 40
LIMITS = f"""
c.Execute.timeout = {CELL_SECONDS}
c.SandboxedKernelManager.wall_seconds = {WALL_SECONDS}
c.SandboxedKernelManager.cpu_seconds = {WALL_SECONDS}
c.SandboxedKernelManager.memory_mb = 1024
c.SandboxedKernelManager.max_processes = 48
"""

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    unavailable_reason() is not None,
    reason=f"the sandbox cannot run here: {unavailable_reason()}")]


def nbgrader(course, *args, **env):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env)
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)


def probe(action, targets):
    """A cell that tries `action` (an expression using `path`) on every target and prints
    a JSON line {target: "done" or the exception's name}."""
    return textwrap.dedent(f"""\
        import json
        _report = {{}}
        for path in {targets!r}:
            try:
                {action}
                _report[path] = "done"
            except Exception as error:
                _report[path] = type(error).__name__
        print("PROBE " + json.dumps(_report))
        """)


def attacks(course, port):
    """student -> code cell inserted after the first cell of an honest submission."""
    notebook = f"{ASSIGNMENT}.ipynb"
    secrets = [str(course / "solutions" / ASSIGNMENT / notebook), str(course / "gradebook.db"),
               str(course / "submitted" / "b-victim" / ASSIGNMENT / notebook),
               str(course / "autograded" / "a-honest" / ASSIGNMENT / notebook),
               str(course / "nbgrader_config.py"),
               # the grader's own digits (Assignment 5 is judged on them)
               str(HOLDOUT_FILE)]
    targets = [str(course / "submitted" / "b-victim" / ASSIGNMENT / notebook),
               str(course / "gradebook.db"), str(course / "pwned.txt"),
               str(course / "autograded" / "a-honest" / ASSIGNMENT / notebook)]
    daemon_targets = [str(course / "autograded" / "m-daemon" / ASSIGNMENT / notebook),
                      str(course / "gradebook.db")]
    return {
        "m-read": probe("open(path, 'rb').read(1)", secrets),
        "m-write": probe("open(path, 'w').write('{}')", targets),
        # Its own notebook, as nbgrader wrote it into the autograded folder before running
        # it: with every hidden test restored (the kernel's copy of that folder leaves it out).
        "m-own-notebook": textwrap.dedent("""\
            import glob, json, os
            _found = {}
            for _path in set(glob.glob("**/*.ipynb", recursive=True)
                             + glob.glob(os.path.expanduser("~/**/*.ipynb"), recursive=True)):
                _text = open(_path).read()
                _found[_path] = "HIDDEN" if "expect=" in _text or "BEGIN HIDDEN" in _text \
                    else len(_text)
            print("PROBE " + json.dumps(_found))
            """),
        # Handed in next to the notebook: a link to the solutions (see batch()).
        "m-link": probe("open(path, 'rb').read(1)", ["answers.ipynb", "answers/" + notebook]),
        # Double fork and setsid: the daemon leaves the kernel's session, waits until
        # grading is over, then rewrites its own graded notebook and the gradebook.
        "m-daemon": textwrap.dedent(f"""\
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(8)
                    for path in {daemon_targets!r}:
                        try:
                            open(path, "w").write("PWNED")
                        except OSError:
                            pass
                os._exit(0)
            print("daemon started")
            """),
        # The socket folder is the only host folder the kernel may write to: a 1 MB tmpfs.
        "m-socket-folder": probe(
            "open(os.path.join(os.path.dirname(get_connection_file()), path), 'wb')"
            ".write(b'x' * 8_000_000)", ["filler"]).replace(
            "import json", "import json, os\nfrom ipykernel import get_connection_file"),
        "m-endless": "while True:\n    pass\n",
        "m-slow-cells": "while True:\n    pass\n",  # in many cells
        "m-sigint": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                     "while True:\n    pass\n"),
        "m-memory": "hog = bytearray(3 * 2**30)\nprint('PROBE allocated 3 GiB')\n",
        "m-forks": textwrap.dedent("""\
            import os, time
            children = 0
            try:
                for _ in range(100_000):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    children += 1
            except OSError as error:
                print("PROBE", type(error).__name__)
            print("PROBE children", children)
            """),
        "m-network": probe(
            "__import__('socket').create_connection(('127.0.0.1', int(path)), 2)",
            [str(port)]),
    }


def kernel_uids(*results):
    """The sandbox uids that these nbgrader runs logged for their kernels."""
    return {int(uid) for result in results
            for uid in re.findall(r"runs as uid (\d+)", result.stderr)}


def owner(path):
    try:
        return os.stat(path).st_uid
    except OSError:
        return None


def sandbox_processes(uids):
    """(pid, uid) of every live process running as one of these sandbox uids (other
    gradings may run on the machine at the same time, with uids of their own)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = int(fields["Uid"].split()[0])
        if uid in uids and not fields["State"].strip().startswith("Z"):
            found.append((int(pid), uid))
    return found


def new_course(tmp_path_factory, name):
    course = tmp_path_factory.mktemp(name)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copytree(REPO / "grading", course / "grading")
    config = (REPO / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(config + LIMITS)
    generated = nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert generated.returncode == 0, generated.stderr
    source = nbformat.read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    release = nbformat.read(course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    return course, honest_submission(source, release)


def submit(course, student, notebook):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return folder / f"{ASSIGNMENT}.ipynb"


def scores(course, students):
    return gradebook_scores(course, ASSIGNMENT, students)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course, answered = new_course(tmp_path_factory, "sandbox")
    scratch = os.path.join(tempfile.gettempdir(), "bp-sandbox-*")
    scratch_before = set(glob.glob(scratch))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]

    students = ["a-honest", "b-victim"]
    for student in students:
        submit(course, student, answered)
    # The neighbours graded before the attacks exist before the batch starts.
    first = nbgrader(course, "autograde", ASSIGNMENT)
    assert first.returncode == 0, first.stderr
    victim_file = course / "submitted" / "b-victim" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    victim_hash = hashlib.sha256(victim_file.read_bytes()).hexdigest()

    for student, code in attacks(course, port).items():
        notebook = nbformat.from_dict(answered)
        notebook.cells.insert(1, nbformat.v4.new_code_cell(code))
        if student == "m-slow-cells":
            for _ in range(WALL_SECONDS // CELL_SECONDS + 2):
                notebook.cells.insert(1, nbformat.v4.new_code_cell(code))
        path = submit(course, student, notebook)
        if student == "m-link":
            (path.parent / "answers.ipynb").symlink_to(
                course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
            (path.parent / "answers").symlink_to(course / "solutions" / ASSIGNMENT)
        students.append(student)

    start = time.perf_counter()
    result = nbgrader(course, "autograde", ASSIGNMENT)
    seconds = time.perf_counter() - start
    left_right_after = sandbox_processes(kernel_uids(result))
    # nbgrader grades a batch in directory order: this neighbour comes after for sure,
    # and while the daemon would strike.
    submit(course, "z-honest", answered)
    students.append("z-honest")
    last = nbgrader(course, "autograde", ASSIGNMENT, "--student", "z-honest")
    assert last.returncode == 0, last.stderr
    time.sleep(10)  # longer than the daemon waits before it strikes
    uids = kernel_uids(result, last)
    # ours: their run/ folder belongs to one of our kernels' uids
    scratch_left = {folder for folder in set(glob.glob(scratch)) - scratch_before
                    if owner(os.path.join(folder, "run")) in uids}
    try:
        connection = listener.accept()
    except BlockingIOError:
        connection = None
    listener.close()

    full = max(score[1] for score in scores(course, ["a-honest"]).values())
    return {"course": course, "result": result, "seconds": seconds, "full": full,
            "scores": scores(course, students), "students": students,
            "left": left_right_after, "scratch_left": scratch_left,
            "uids": uids,
            "connection": connection,
            "victim_unchanged": hashlib.sha256(victim_file.read_bytes()).hexdigest()
            == victim_hash}


def probes(batch, student):
    """The PROBE lines the attack cell printed in the graded notebook."""
    path = batch["course"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    cell = nbformat.read(path, 4).cells[1]
    text = "".join(output.get("text", "") for output in cell.outputs)
    text += "".join(f"{output.get('ename')}\n" for output in cell.outputs
                    if output.output_type == "error")
    return text


def probe_report(batch, student):
    line = next(line for line in probes(batch, student).splitlines()
                if line.startswith("PROBE {"))
    return json.loads(line.removeprefix("PROBE "))


def test_honest_neighbours_keep_full_marks(batch):
    assert batch["full"] > 0
    for student in ("a-honest", "b-victim", "z-honest"):
        assert batch["scores"][student] == (batch["full"], batch["full"]), student


def test_reading_solutions_gradebook_and_classmates_fails(batch):
    report = probe_report(batch, "m-read")
    assert report and all(outcome != "done" for outcome in report.values()), report
    assert batch["scores"]["m-read"] == (batch["full"], batch["full"])


def test_the_kernel_cannot_read_its_restored_notebook(batch):
    """nbgrader runs the notebook it wrote with the hidden tests restored; the kernel's
    folder holds no notebook at all, so no hidden line or reference can be read from disk
    (an outsider's trial printed them all, compressed and base85-encoded, past the scan)."""
    assert probe_report(batch, "m-own-notebook") == {}
    assert (batch["course"] / "autograded" / "m-own-notebook" / ASSIGNMENT
            / f"{ASSIGNMENT}.ipynb").exists()
    assert batch["scores"]["m-own-notebook"] == (batch["full"], batch["full"])


def test_links_to_solutions_lead_nowhere(batch):
    """A submission holding a link is not graded at all (nothing of it is copied), and
    nbgrader says why."""
    assert batch["scores"]["m-link"] is None
    assert "m-link" in batch["result"].stderr and "symbolic link" in batch["result"].stderr
    assert not (batch["course"] / "autograded" / "m-link").exists()


def test_socket_folder_is_a_small_tmpfs(batch):
    report = probe_report(batch, "m-socket-folder")
    assert report == {"filler": "OSError"}, report
    assert batch["scores"]["m-socket-folder"] == (batch["full"], batch["full"])


def test_writing_to_classmates_and_gradebook_fails(batch):
    report = probe_report(batch, "m-write")
    assert report and all(outcome != "done" for outcome in report.values()), report
    assert batch["victim_unchanged"]
    assert not (batch["course"] / "pwned.txt").exists()
    assert batch["scores"]["m-write"] == (batch["full"], batch["full"])


def test_no_process_outlives_its_notebook(batch):
    assert batch["left"] == [], "sandbox processes survived grading"
    assert batch["uids"], "no kernel ran in the sandbox"
    assert sandbox_processes(batch["uids"]) == []
    assert batch["scratch_left"] == set(), "sandbox folders left behind"
    graded = batch["course"] / "autograded" / "m-daemon" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    # The daemon would have replaced the whole file with "PWNED".
    assert not graded.read_text().startswith("PWNED")
    nbformat.validate(nbformat.read(graded, 4))
    assert batch["scores"]["m-daemon"] == (batch["full"], batch["full"])


def test_endless_loop_costs_only_its_cell(batch):
    # Interrupted after Execute.timeout; the answers after it are graded.
    assert "KeyboardInterrupt" in probes(batch, "m-endless")
    assert batch["scores"]["m-endless"] == (batch["full"], batch["full"])


def test_loop_ignoring_interrupts_fails_alone(batch):
    # nbclient gives up on a kernel that ignores the interrupt: no score, reported.
    assert batch["scores"]["m-sigint"] in (None, (0, batch["full"]))
    assert batch["result"].returncode == 1
    assert "m-sigint" in batch["result"].stderr


def test_wall_clock_limit_stops_a_notebook_of_slow_cells(batch):
    # Every cell stops within Execute.timeout, yet together they exceed wall_seconds.
    assert batch["scores"]["m-slow-cells"] in (None, (0, batch["full"]))
    assert "ran longer than" in batch["result"].stderr


def test_memory_limit_holds(batch):
    assert "MemoryError" in probes(batch, "m-memory")
    assert "allocated" not in probes(batch, "m-memory")
    assert batch["scores"]["m-memory"] == (batch["full"], batch["full"])


def test_fork_storm_is_capped(batch):
    text = probes(batch, "m-forks")
    children = int(text.split("PROBE children")[1].split()[0])
    assert "PROBE BlockingIOError" in text and 0 < children < 48, text
    assert batch["scores"]["m-forks"] == (batch["full"], batch["full"])


def test_no_network(batch):
    report = probe_report(batch, "m-network")
    assert list(report.values()) != ["done"], report
    assert batch["connection"] is None, "the kernel reached the host's loopback"
    assert batch["scores"]["m-network"] == (batch["full"], batch["full"])


def test_batch_completes_within_bounds(batch, record_property):
    # Each slow submission costs at most its wall-clock limit; the others at most one cell.
    n = len(batch["students"]) - 3  # the neighbours are graded apart
    print(f"\nsandboxed batch of {n} (all hostile): {batch['seconds']:.1f} s")
    record_property("sandbox_batch_seconds", batch["seconds"])
    assert batch["seconds"] < 2 * WALL_SECONDS + n * (CELL_SECONDS + 30)
    assert all(batch["scores"][student] is not None for student in batch["students"]
               if student not in ("m-sigint", "m-slow-cells", "m-link"))
    assert "m-sigint" in batch["result"].stderr  # reported


def test_without_the_sandbox_grading_works_and_warns(tmp_path_factory):
    """What an instructor without root gets; also the on/off cost, side by side."""
    course, answered = new_course(tmp_path_factory, "sandbox-off")
    students = [f"s{i}" for i in range(4)]
    for student in students:
        submit(course, student, answered)
    timings = {}
    for mode in ("on", "off"):
        start = time.perf_counter()
        result = nbgrader(course, "autograde", ASSIGNMENT, "--force", BP_SANDBOX=mode)
        timings[mode] = (time.perf_counter() - start) / len(students)
        assert result.returncode == 0, result.stderr
        warned = "Grading sandbox OFF (BP_SANDBOX=off)" in result.stderr
        assert warned == (mode == "off"), result.stderr[-3000:]
        graded = scores(course, students)
        assert all(score and score[0] == score[1] > 0 for score in graded.values()), graded
    print(f"\nautograde per honest submission: sandbox on {timings['on']:.2f} s, "
          f"off {timings['off']:.2f} s, ratio {timings['on'] / timings['off']:.2f}")
