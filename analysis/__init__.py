"""analysis/: catalogue → tidy tables with confidence intervals. Arrives with issue 6."""
