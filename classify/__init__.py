"""classify/: faces → labels (perceived gender by default) with probabilities, and corrected shares.

Backbones (dlib descriptor, VGGFace in Keras 3) → Keras head, trained on labelled folders or on
labels people give in the local labelling page; evaluated on held-out posters; predictions stored
per model version; shares corrected for the model's measured errors (prevalence.py).
"""
