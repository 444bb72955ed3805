"""The gradebook on a real PostgreSQL server, and a class graded in parallel against it.

A throw-away cluster runs on 127.0.0.1 as an unprivileged user (tests/pg.py). The same
submissions (honest, wrong and crashing) are graded three times, into three fresh databases:
with one process, with two, and as the Kubernetes example's pods would (deploy/grade-job.yaml:
its container's command and environment, one process per index, all at once). Every run
must give every student exactly one grade, the same grades, and report the crashing
submissions as not graded; the example itself is validated against the Kubernetes schemas.

Run as a script for the measurement of the instructor guide (40 submissions):
    .venv/bin/python tests/test_gradebook_server.py 40
"""

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BIN, REPO, honest_submission  # noqa: E402
from pg import Cluster  # noqa: E402

ASSIGNMENT = "01-telephone"
# cycled over the students
KINDS = ["honest", "untouched", "crash", "honest", "honest", "untouched"]

pytestmark = pytest.mark.slow


def env_for(db_url):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("BPCOURSE_DB_URL", None)
    if db_url:
        env["BPCOURSE_DB_URL"] = db_url
    return env


def run(course, db_url, *args):
    return subprocess.run(args, cwd=course, env=env_for(db_url), capture_output=True,
                          text=True, timeout=1800)


def make_course(folder, students):
    """A copy of the course with one assignment and `students` submissions of it."""
    course = Path(folder)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copytree(REPO / "grading", course / "grading",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", course)
    source_path = next((course / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / source_path.name, as_version=4)
    kinds = {}
    for number in range(students):
        kind = KINDS[number % len(KINDS)]
        notebook = (nbformat.from_dict(release) if kind == "untouched"
                    else honest_submission(source, release))
        if kind == "crash":
            notebook.cells.insert(1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
        student = f"s{number:03d}-{kind}"
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / source_path.name)
        kinds[student] = kind
    return course, kinds


def grade_class(course, db_url, jobs):
    """Release into a fresh gradebook, grade everyone in `jobs` processes; return
    (the printed report, exit status, {student: score}, seconds)."""
    released = run(course, db_url, str(BIN / "python"), "-m", "grading", "release", ASSIGNMENT)
    assert released.returncode == 0, released.stdout + released.stderr
    start = time.perf_counter()
    graded = run(course, db_url, str(BIN / "python"), "-m", "grading", "grade",
                 ASSIGNMENT, "--jobs", str(jobs))
    seconds = time.perf_counter() - start
    return graded, scores_in(db_url), seconds


def scores_in(db_url):
    from nbgrader.api import Gradebook
    with Gradebook(db_url) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
        students = [student.id for student in gradebook.students]
    assert len(students) == len(set(students)), f"duplicate students: {students}"
    return scores


JOB = REPO / "deploy" / "grade-job.yaml"


def rendered_job(assignment, shards, path=JOB):
    """A deploy/ manifest filled in by the sed line its header gives."""
    text = path.read_text()
    line = re.search(r"#\s+(sed .*?)(?:\\\n|\|)", text).group(1)
    args = [arg.replace("01-telephone", assignment).replace("/8/", f"/{shards}/")
            for arg in shlex.split(line) if not arg.endswith(".yaml")]
    filled = subprocess.run(args, input=text, capture_output=True, text=True,
                            check=True).stdout
    return filled


def test_the_kubernetes_example_is_valid_and_hard_codes_nothing():
    import kubernetes_validate
    import yaml

    text = JOB.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "01-telephone" not in body and "__ASSIGNMENT__" in body
    assert "make release" in text and "PostgreSQL" in text  # release there first
    assert "--sandbox off" not in body  # the sandbox is required, off only if asked for
    job = yaml.safe_load(rendered_job(ASSIGNMENT, 3))
    # the guide says Kubernetes 1.29 or later (backoffLimitPerIndex, podFailurePolicy)
    assert "Kubernetes 1.29 or later" in text
    for version in ("1.29.0", kubernetes_validate.latest_version()):
        kubernetes_validate.validate(job, version, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.28.0", strict=True)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 3 == spec[
        "parallelism"]
    pod = spec["template"]["spec"]["containers"][0]
    assert "--students-may-fail" in " ".join(pod["args"])
    assert pod["securityContext"]["privileged"] is True
    mounts = [m["mountPath"] for m in pod["volumeMounts"]]
    assert not any("/course/.venv".startswith(m.rstrip("/") + "/") for m in mounts), mounts
    # the validation does catch a wrong manifest
    pod["volumeMountz"] = pod.pop("volumeMounts")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    others = sorted(p for p in (REPO / "deploy").glob("*.y*ml") if p != JOB)
    assert [p.name for p in others] == ["release-job.yaml"]
    for other in others:
        for document in yaml.safe_load_all(rendered_job(ASSIGNMENT, 3, other)):
            for version in ("1.29.0", kubernetes_validate.latest_version()):
                kubernetes_validate.validate(document, version, strict=True)
    # the release runs in the grading image (the only place with solutions/), into the
    # volume's grading-records/ (where the grading pods look) and the same gradebook
    release = yaml.safe_load(rendered_job(ASSIGNMENT, 3, others[0]))["spec"]["template"][
        "spec"]["containers"][0]
    grading = yaml.safe_load(rendered_job(ASSIGNMENT, 3))["spec"]["template"]["spec"][
        "containers"][0]
    assert release["image"] == grading["image"] and release["workingDir"] == "/course"
    assert release["command"][-2:] == ["release", ASSIGNMENT]
    assert [m["mountPath"] for m in release["volumeMounts"]] == ["/course/grading-records"]
    assert release["env"] == [e for e in grading["env"] if e["name"] == "BPCOURSE_DB_URL"]



def test_the_kubernetes_example_reruns_and_names_what_the_guide_requires():
    import yaml

    guide = (REPO / "instructors.md").read_text()
    for path in (JOB, REPO / "deploy" / "release-job.yaml"):
        text = path.read_text()
        job = yaml.safe_load(rendered_job(ASSIGNMENT, 3, path))
        name = job["metadata"]["name"]
        pod = job["spec"]["template"]["spec"]
        # its own namespace, the private registry's pull secret, the reserved nodes
        assert job["metadata"]["namespace"] and pod["imagePullSecrets"][0]["name"]
        assert pod["nodeSelector"] and pod["tolerations"][0]["effect"] == "NoSchedule"
        assert pod["containers"][0]["imagePullPolicy"] == "Always"
        # a re-run deletes the Job that already ran first, in the file and in the guide
        delete = (f"kubectl -n {job['metadata']['namespace']} delete job "
                  f"{name.replace(ASSIGNMENT, '01-telephone')} --ignore-not-found")
        assert delete in text, path
        assert delete in guide, delete
        assert guide.index(delete) < guide.index(f"g' deploy/{path.name}")  # then apply
    # the gradebook Secret and the RWX claim are created as the guide says
    for command in ("kubectl -n grading create secret generic gradebook --from-file=url=",
                    "kubectl -n grading create secret docker-registry registry",
                    "accessModes: [ReadWriteMany]"):
        assert command in guide, command
    claim = yaml.safe_load(guide.split("<<'CLAIM'\n", 1)[1].split("\nCLAIM\n", 1)[0])
    import kubernetes_validate
    kubernetes_validate.validate(claim, kubernetes_validate.latest_version(), strict=True)
    assert claim["metadata"]["name"] == yaml.safe_load(rendered_job(ASSIGNMENT, 3))[
        "spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]


def run_pods(course, db_url, shards):
    """The Job's pods, simulated: its container command with its environment (the secret's
    URL, JOB_COMPLETION_INDEX), one process per index, all at once; the image's
    /course/.venv/bin/python is this environment's python, /course is the course copy."""
    import yaml

    job = yaml.safe_load(rendered_job(ASSIGNMENT, shards))
    pod = job["spec"]["template"]["spec"]["containers"][0]
    command = [part.replace("/course/.venv/bin/python", str(BIN / "python"))
               for part in pod["command"] + pod["args"]]
    env = env_for(db_url)
    for variable in pod["env"]:
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            assert variable["valueFrom"]["secretKeyRef"]["key"] == "url"
            env[variable["name"]] = db_url
    env["JOBS"] = "1"  # two cores here, whatever a pod requests
    pods = [subprocess.Popen(command, cwd=course, env=dict(env, JOB_COMPLETION_INDEX=str(i)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(job["spec"]["completions"])]
    return [(pod.wait(timeout=1800), *pod.communicate()) for pod in pods]


@pytest.fixture(scope="module")
def cluster():
    server = Cluster().start()
    yield server
    server.stop()


def check_report(graded, kinds, max_score):
    lines = [line.split() for line in graded.stdout.splitlines()
             if re.match(r"  s\d+-\w+ ", line)]
    reported = [fields[0] for fields in lines]
    assert sorted(reported) == sorted(kinds), graded.stdout  # one line per student, no more
    for fields in lines:
        if kinds[fields[0]] == "crash":
            assert "NOT GRADED" in " ".join(fields), graded.stdout
        else:
            assert float(fields[1]) == (max_score if kinds[fields[0]] == "honest" else 0)
    crashes = sum(kind == "crash" for kind in kinds.values())
    assert f"graded {len(kinds) - crashes} of {len(kinds)}" in graded.stdout
    assert f"{crashes} not graded" in graded.stdout
    assert graded.returncode == 1  # some submissions could not be graded: the exit says so
    assert "locked" not in graded.stdout + graded.stderr


def check_diagnoses(url, kinds):
    """The grader's processes stored the diagnoses, the checks' outcomes and times in the
    server's gradebook: every test cell of an untouched submission failed (its visible
    asserts stop it before the hidden checks: kind none, stopped, and every check not
    run), none of an honest one (every check passed); one time per graded submission."""
    from grading.diagnoses import read_all
    from grading.judge import reference

    diagnoses, times, outcomes = read_all(url, ASSIGNMENT)
    checks, _ = reference(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    every = sorted((grade_id, index) for grade_id, found in checks.items()
                   for index in range(len(found)))
    graded = {s: kind for s, kind in kinds.items() if kind != "crash"}
    for student, kind in graded.items():
        theirs = [row for row in outcomes if row["student"] == student]
        assert sorted((row["grade_id"], row["check_index"]) for row in theirs) == every
        assert {row["outcome"] for row in theirs} == {
            "passed" if kind == "honest" else "not run"}
    assert {row["student"] for row in outcomes} == set(graded)
    test_cells = sum(bool(cell.metadata.get("nbgrader", {}).get("grade")) for cell in
                     nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                   as_version=4).cells)
    per_student = {}
    for row in diagnoses:
        per_student.setdefault(row["student"], []).append(row)
    assert sorted(per_student) == sorted(s for s, kind in kinds.items() if kind == "untouched")
    assert all(len(rows) == test_cells for rows in per_student.values())
    assert {row["kind"] for row in diagnoses} == {"none"}
    assert sorted(times) == sorted(s for s, kind in kinds.items() if kind != "crash")


def test_parallel_grading_and_the_cluster_s_pods_give_the_serial_grades(cluster, tmp_path):
    course, kinds = make_course(tmp_path / "course", 4)
    max_score = sum(cell.metadata["nbgrader"].get("points", 0) for cell in nbformat.read(
        next((course / "solutions" / ASSIGNMENT).glob("*.ipynb")), as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade"))
    results = {}
    for jobs in (1, 2):
        url = cluster.create_database(f"jobs{jobs}")
        graded, scores, _ = grade_class(course, url, jobs)
        check_report(graded, kinds, max_score)
        check_diagnoses(url, kinds)
        results[jobs] = scores
    expected = {s: (max_score if kind == "honest" else 0.0)
                for s, kind in kinds.items() if kind != "crash"}
    assert {s: v for s, v in results[1].items() if kinds[s] != "crash"} == expected
    assert results[1] == results[2]
    # the Kubernetes Job: release into the server first, then 3 pods at once, then grades
    url = cluster.create_database("pods")
    released = run(course, url, str(BIN / "python"), "-m", "grading", "release", ASSIGNMENT)
    assert released.returncode == 0, released.stdout + released.stderr
    pods = run_pods(course, url, 3)
    reported = []
    for status, out, err in pods:
        assert status == 0, out + err  # a crashing student is a success of the shard
        assert "sandbox ON" in out, out
        reported += [line.split()[0] for line in out.splitlines()
                     if re.match(r"  s\d+-\w+ ", line)]
    assert sorted(reported) == sorted(kinds)  # every student exactly once
    assert scores_in(url) == results[1]
    check_diagnoses(url, kinds)
    report = run(course, url, str(BIN / "python"), "-m", "grading", "report", ASSIGNMENT)
    assert report.returncode == 0, report.stdout + report.stderr
    with open(course / "grading-records" / "report" / ASSIGNMENT / "times.csv") as table:
        assert sorted(row["student"] for row in csv.DictReader(table)) == sorted(
            s for s, kind in kinds.items() if kind != "crash")
    exported = run(course, url, str(BIN / "python"), "-m", "grading", "grades")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    with open(course / "grades.csv", newline="") as table:
        statuses = {row["student_id"]: row["status"] for row in csv.DictReader(table)}
    assert statuses == {s: "not graded" if kind == "crash" else "graded"
                        for s, kind in kinds.items()}


def test_parallel_grading_refuses_sqlite(tmp_path):
    course, _ = make_course(tmp_path / "course", 1)
    graded = run(course, None, str(BIN / "python"), "-m", "grading", "grade",
                 ASSIGNMENT, "--jobs", "2")
    assert graded.returncode != 0
    assert "needs a server gradebook" in graded.stderr
    assert not (course / "gradebook.db").exists()  # refused before touching anything


def test_missing_assignment_or_submissions_are_named(tmp_path):
    course, _ = make_course(tmp_path / "course", 1)
    graded = run(course, None, str(BIN / "python"), "-m", "grading", "grade", "99-nope")
    assert graded.returncode != 0 and "no assignment '99-nope'" in graded.stderr
    shutil.rmtree(course / "submitted")
    graded = run(course, None, str(BIN / "python"), "-m", "grading", "grade", ASSIGNMENT)
    assert graded.returncode != 0 and "no submissions of '01-telephone'" in graded.stderr


def test_shards_split_the_class_exactly_once(tmp_path):
    course, kinds = make_course(tmp_path / "course", 7)
    code = ("from grading.batch import submissions; "
            "print([s for i in range(3) for s in submissions('01-telephone', (i, 3))])")
    shards = run(course, None, str(BIN / "python"), "-c", code)
    assert shards.returncode == 0, shards.stderr
    assert sorted(eval(shards.stdout)) == sorted(kinds)
    bad = run(course, None, str(BIN / "python"), "-m", "grading", "grade", ASSIGNMENT,
              "--shard", "3/3")
    assert bad.returncode != 0 and "0 <= i < n" in bad.stderr


if __name__ == "__main__":  # the measurement: JOBS=1 against JOBS=2, side by side
    import tempfile
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as folder:
        server = Cluster().start()
        try:
            course, kinds = make_course(Path(folder) / "course", count)
            times, grades = {}, {}
            for jobs in (1, 2):
                graded, grades[jobs], times[jobs] = grade_class(
                    course, server.create_database(f"measure{jobs}"), jobs)
                print(graded.stdout.splitlines()[-1 - sum(k == "crash" for k in kinds.values())])
            print(f"{count} submissions: JOBS=1 {times[1]:.1f} s, JOBS=2 {times[2]:.1f} s, "
                  f"speed-up {times[1] / times[2]:.2f}x; grades identical: "
                  f"{grades[1] == grades[2]}")
        finally:
            server.stop()
