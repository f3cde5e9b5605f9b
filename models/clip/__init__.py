"""CLIP models: the small CLIP this project trains, open_clip/OpenAI checkpoints from a file, one API (api.py)."""
