"""classify/models/: what a model is and how it runs — the card, the folder, the backbones, the head, the classifier.

The lowest room of classify: it imports no other room, so training, labelling and the stage can all
build on it (progress lives here because the backbones and the head report through it first).
"""
