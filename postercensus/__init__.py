"""postercensus: the command-line interface and the refresh pipeline that runs the stages."""
