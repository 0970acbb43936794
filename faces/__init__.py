"""faces/: images → faces (detection with upsampling, alignment, embeddings). Arrives with issue 3."""
