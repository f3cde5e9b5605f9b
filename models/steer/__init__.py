"""CLIP-steered generators: strokes (CLIPDraw-like), the pix2pix portrait with added strokes, Fourier pixels."""
