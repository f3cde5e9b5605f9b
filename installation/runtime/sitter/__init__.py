"""Sitter mode, what runs inside it: the show (`show.py`: camera → faces → the pure state machine in
installation/core/sitter.py → sketcher → robot), its workers (`workers.py`: vision, sketching, the in-process
simulator) and the archived pair (`record.py`). The verb is installation/verbs/sitter.py."""
