"""classify/: faces → perceived-gender predictions (backbones, Keras head). Arrives with issue 4."""
