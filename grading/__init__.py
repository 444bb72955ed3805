"""Grading for the course's nbgrader assignments (instructors' code: never in bplib).

The student's kernel imports only `grading.record` (it holds no reference answer); the
grader's process runs `grading.judge` (hidden checks judged against the solutions) and
`grading.leaks` (the scan for hidden-test and solution lines in student-facing files).
"""
