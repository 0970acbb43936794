"""harvest/: sources → items + images (OAI-PMH, IIIF Presentation v2/v3, CSV, folder)."""
