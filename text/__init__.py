"""text/: item descriptions → gendered mentions (spaCy): gender, trigger, role, category, offsets.

The lexicon, role categories and boilerplate rules are data files (text/data/*.toml) extended
from `[text]` in postercensus.toml; a hash of all of them and of the spaCy model names each
result set, so the stage reruns exactly when a description or a rule changes.
"""
