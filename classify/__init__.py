"""classify/: faces → labels (perceived gender by default) with probabilities, and corrected shares.

Backbones (dlib descriptor, VGGFace in Keras 3) → Keras head (models/), trained on labelled
folders or on labels people give in the local labelling page (train/, label/); evaluated on
held-out posters; predictions stored per model version (predictstage.py); shares corrected for the
model's measured errors (correction.py with the estimators of prevalence/estimate.py).

TensorFlow is configured here, before any module of this package imports it: oneDNN's reordered
float sums are turned off so a model gives the same probabilities on every CPU (and TensorFlow
stops announcing them on stderr), and its C++ logging is kept to errors. A user's own settings
of these variables win.
"""
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
