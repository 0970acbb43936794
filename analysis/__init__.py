"""analysis/: the catalogue as tidy tables of corrected shares with intervals, and their export.

`load.load_tables` reads the catalogue once into pandas frames (`Tables`); `tables` holds the
functions that turn them into the published tables, every share of faces corrected for the
classifier's known errors (`classify.correction`); `export` writes them as CSV with a codebook and
the provenance a reader needs to cite them.
"""
