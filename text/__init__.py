"""text/: item descriptions → gendered noun-phrase mentions (spaCy). Arrives with issue 5."""
