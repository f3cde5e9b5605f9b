"""The verbs of run.py: each module exposes `add_arguments(parser)` and `main(args) -> int` (see run.py's VERBS)."""
