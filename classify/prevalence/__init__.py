"""classify/prevalence/: corrected shares — the estimators that undo a classifier's measured errors (estimate.py).

It imports no other room of classify: the confusion matrix and the estimators are plain arithmetic
that train/ (held-out metrics) and the share correction at classify/correction.py build on.
"""
