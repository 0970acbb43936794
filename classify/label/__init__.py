"""classify/label/: hand labels — the queue and the local labelling page, label files in and out, validation samples and agreement.

Builds on models/ and train/ (hand-labelled catalogue faces become training sets); nothing below
imports it.
"""
