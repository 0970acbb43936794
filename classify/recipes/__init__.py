"""classify/recipes/: how the shipped default model is made, from ../shared/data.

The default model ships inside every install, so the code that writes it belongs to the package,
not to benchmarks/ (which only measures, importing these pieces so it measures this very recipe):

    python -m postercensus.classify.recipes.train_default --cnn RUN_DIR --cnn RUN_DIR --pack PACK.npz
    python -m postercensus.classify.recipes.recalibrate_default

data (where the shared data are), faces (the labelled sets, found as the face stage finds them,
cached), depicted (the three sets combined, their grouped folds, the head's fit), paintings and
scenes (the scene paintings' hand-boxed faces), outoffold (the card's out-of-fold predictions per
domain, uncalibrated), cardpage (MODEL_CARD.md from the card), train_default and
recalibrate_default (the two commands).
"""
