"""Grading code for the course: nbgrader extensions that the instructor runs (never installed for students)."""
