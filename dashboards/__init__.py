"""dashboards/: analysis tables → Plotly pages. Arrives with issue 6."""
