"""The course's grading code (instructors only; never installed for students)."""
