"""Every realistic answer in tests/answers/ gets the verdict and the hint its row names.

Wrong answers score 0 with a hint that names the mistake (more than the bare values);
correct alternatives pass. Every graded task of the course has at least three wrong answers
and one correct alternative in the tables.
"""

from __future__ import annotations

import pytest

from backprop_lib.checks import registry

from answers import BARE_VALUES, exercise_tasks, learner_function, tables

TABLES = tables()
ROWS = [(exercise, answer) for exercise, answers in sorted(TABLES.items()) for answer in answers]


@pytest.mark.parametrize("exercise, answer", ROWS, ids=[str(a) for _, a in ROWS])
def test_answer_gets_its_verdict_and_hint(exercise, answer):
    check = registry()[answer.task]
    result = check.run(learner_function(answer, exercise))
    if answer.hint is None:
        assert result.status == "pass", f"a correct alternative was rejected: {result.message}"
        return
    assert result.status == answer.status and result.score == 0, f"{result.status}: {result.message}"
    assert answer.hint in result.message, f"expected a hint containing {answer.hint!r}, got: {result.message}"
    assert not BARE_VALUES.match(result.message), f"only the bare values: {result.message}"


@pytest.mark.parametrize("exercise", sorted(TABLES))
def test_every_task_has_three_wrong_answers_and_one_alternative(exercise):
    answers = TABLES[exercise]
    for task in exercise_tasks(exercise):
        wrong = [a for a in answers if a.task == task and a.hint is not None]
        right = [a for a in answers if a.task == task and a.hint is None]
        assert len(wrong) >= 3, f"{exercise}/{task}: {len(wrong)} wrong answers in the table"
        assert len(right) >= 1, f"{exercise}/{task}: no correct alternative in the table"
