"""The instructor's grader (``python -m backprop_lib.grade``): see :mod:`backprop_lib.grade.cli`."""
