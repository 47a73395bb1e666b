"""Shared pytest configuration for the course's test suite."""

# The grader's fixture notebooks are inputs of tests/test_grade.py (some are deliberately
# broken), not course notebooks: keep nbval from collecting them when `make test` passes
# --nbval with tests/ on the command line.
collect_ignore_glob = ["grading_fixtures/*"]
