"""What the tests of backprop_lib.checks share: the exercises' untouched stub and the two verdicts
a test asserts (imported by tests/test_checks_*.py; pytest puts tests/ on sys.path)."""


def stub(*args, **kwargs):
    """An exercise cell as the learner receives it."""
    raise NotImplementedError("replace this line with your code")


def passes(check, fn):
    """``fn`` gets full marks from ``check``; return the result."""
    result = check.run(fn)
    assert result.status == "pass", result.message
    assert result.score == result.max_score == 1
    return result


def fails_with(check, fn, *fragments, statuses=("fail", "error")):
    """``fn`` scores 0 with one of ``statuses`` and a hint containing every fragment; return the result."""
    result = check.run(fn)
    assert result.status in statuses, result.message
    assert result.score == 0
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result
