"""The feedback framework every check_* is built on: PASS or a specific hint, never a traceback."""

import numpy as np
import pytest

from backprop_lib.checks import _core
from backprop_lib.checks._core import call, expect_array, expect_close, expect_scalar, task


@pytest.fixture(scope="module")
def check_double():
    name = "framework_selftest_double"
    if name in _core._REGISTRY:
        return _core._REGISTRY[name]

    @task(name, points=2, timeout=0.5)
    def check(fn):
        for seed in range(3):
            x = np.random.default_rng(seed).standard_normal(4)
            expect_close(call(fn, x), 2 * x, "double(x)", mistakes={"you added 2 instead of doubling": x + 2})
        return "doubles random arrays"

    return check


def test_correct_function_passes_with_full_score_and_says_what_was_verified(check_double, capsys):
    check_double(lambda x: 2 * x)
    out = capsys.readouterr().out
    assert out.startswith("PASS") and "doubles random arrays" in out and "(2/2)" in out
    result = _core.results()["framework_selftest_double"]
    assert (result.score, result.max_score, result.status) == (2.0, 2.0, "pass")


def test_known_mistake_gets_its_hint(check_double):
    result = check_double.run(lambda x: x + 2)
    assert result.status == "fail" and result.score == 0
    assert "you added 2 instead of doubling" in result.message


def test_not_implemented_stub_is_reported_as_not_yet_done(check_double, capsys):
    def double(x):
        raise NotImplementedError("double: replace this line with your code")

    check_double(double)
    out = capsys.readouterr().out
    assert out.startswith("TODO") and "not implemented yet" in out and "Traceback" not in out


def test_exception_in_learner_code_is_named_with_its_line(check_double):
    def double(x):
        return x[10]

    result = check_double.run(double)
    assert "IndexError" in result.message and "return x[10]" in result.message


def test_infinite_loop_is_stopped_by_the_time_limit(check_double):
    def double(x):
        while True:
            pass

    result = check_double.run(double)
    assert "did not return within" in result.message


def test_bare_except_cannot_swallow_the_time_limit(check_double):
    def double(x):
        while True:
            try:
                while True:
                    pass
            except Exception:
                pass

    assert "did not return within" in check_double.run(double).message


def test_mutating_the_input_is_reported(check_double):
    def double(x):
        x *= 2
        return x

    assert "modified its input" in check_double.run(double).message


@pytest.mark.parametrize(
    "fn, fragment",
    [
        (lambda x: None, "forget the `return`"),
        (lambda x: (2 * x)[:, None], "has shape (4, 1), expected (4,)"),
        (lambda x: (2 * x).astype(np.float32), "float32"),
        (lambda x: np.full(4, np.nan), "NaN"),
        (lambda x: -2 * x, "sign is flipped"),
        (lambda x: "twice", "numpy array"),
        (lambda x: (2 * x, 0), "tuple"),
    ],
)
def test_wrong_type_shape_dtype_and_nan_get_specific_messages(check_double, fn, fragment):
    assert fragment in check_double.run(fn).message


def test_passing_a_called_function_instead_of_the_function(check_double):
    assert "Pass the function itself" in check_double.run(3.0).message


def test_expect_array_hints_at_a_missing_transpose():
    with pytest.raises(_core.Mistake, match="transpose"):
        expect_array(np.zeros((3, 2)), np.zeros((2, 3)), "dW")


def test_expect_array_hints_at_a_missing_batch_sum():
    with pytest.raises(_core.Mistake, match="sum over the batch"):
        expect_array(np.zeros((5, 3)), np.zeros(3), "db")


def test_expect_scalar_rejects_arrays_and_bools():
    with pytest.raises(_core.Mistake, match="single number"):
        expect_scalar(np.zeros(3), 0.0, "loss")
    with pytest.raises(_core.Mistake, match="single number"):
        expect_scalar(True, 1.0, "loss")
    assert expect_scalar(np.float64(1.5), 1.5, "loss") == 1.5


def test_a_bug_inside_a_check_is_reported_without_traceback():
    @task("framework_selftest_broken", points=1)
    def check(fn):
        raise KeyError("oops")

    result = check.run(lambda: None)
    assert result.status == "error" and "KeyError" in result.message and "Traceback" not in result.message


def test_grade_runs_a_registered_check_by_task_id(check_double):
    result = _core.grade("framework_selftest_double", lambda x: 2 * x)
    assert result.passed and result.task == "framework_selftest_double"
    with pytest.raises(ValueError, match="unknown task"):
        _core.grade("no_such_task", lambda x: x)


def test_registering_a_task_twice_is_an_error(check_double):
    with pytest.raises(ValueError, match="registered twice"):
        task("framework_selftest_double")(lambda fn: None)


def test_every_registered_course_check_reports_not_implemented_for_a_stub():
    from backprop_lib.checks import registry

    def stub(*args, **kwargs):
        raise NotImplementedError("stub")

    for name, check in registry().items():
        if name.startswith("framework_selftest"):
            continue
        result = check.run(stub)
        assert result.status == "not_implemented", f"check_{name}: {result.message}"


# --------------------------------------------------------------------------- generic diagnoses


@pytest.mark.parametrize("factor, fragment", [(2.0, "2 times the answer"), (0.5, "1/2 times the answer"),
                                              (32.0, "32 times the answer"), (1 / 32, "0.03125 times")])
def test_a_constant_factor_is_named(check_double, factor, fragment):
    result = check_double.run(lambda x: factor * 2 * x)
    assert result.status == "fail" and fragment in result.message, result.message


def test_a_transposed_square_matrix_is_named():
    W = np.arange(9.0).reshape(3, 3)
    with pytest.raises(_core.Mistake, match="transpose"):
        expect_array(W.T, W, "dW")


def test_values_that_print_alike_show_the_relative_error_and_dtype():
    with pytest.raises(_core.Mistake,
                       match=r"got 0\.5336832\d*, expected 0\.5336830\d*.*relative error 1\.9e-07, dtype float64"):
        expect_scalar(0.5336832, 0.5336831, "f(x)")


def test_an_unwritten_helper_is_named(check_double):
    def helper(x):
        raise NotImplementedError("helper: replace this line with your code")

    def double(x):
        return 2 * helper(x)

    result = check_double.run(double)
    assert result.status == "fail" and "calls `helper`, which still raises NotImplementedError" in result.message


def test_counted_records_every_call():
    f = _core.Counted(np.sin)
    f(0.1), f(0.2)
    assert f.calls == [(0.1,), (0.2,)] and f.__name__ == "sin"


# --------------------------------------------------------------------------- the library's own answer


def _reference_double(x):
    return 2 * x


@pytest.fixture(scope="module")
def check_with_reference():
    name = "framework_selftest_reference"
    if name in _core._REGISTRY:
        return _core._REGISTRY[name]

    @task(name, references=[_reference_double])
    def check(fn):
        expect_close(call(fn, np.ones(3)), 2 * np.ones(3), "double")

    return check


@pytest.mark.parametrize("learner", [
    lambda: _reference_double,                                   # an alias: my_double = _reference_double
    lambda: __import__("functools").partial(_reference_double),  # a partial of it
    lambda: eval(compile("lambda x: ref(x)", "<learner cell>", "eval"), {"ref": _reference_double}),  # a call
])
def test_the_library_answer_under_any_name_scores_zero(check_with_reference, learner):
    result = check_with_reference.run(learner())
    assert result.status == "fail" and "reference implementation" in result.message, result.message


def test_own_code_passes_a_check_with_references(check_with_reference):
    assert check_with_reference.run(lambda x: x + x).status == "pass"
