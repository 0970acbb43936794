"""classify/train/: fitting and judging models — training sets, grouped splits, calibration per domain, metrics, reports.

Builds on models/ and on prevalence/ (the held-out metrics count with its confusion matrix); the
labelling room and the stage build on it.
"""
