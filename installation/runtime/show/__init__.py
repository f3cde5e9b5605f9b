"""The show: the main loop that wires inputs, canvas, generators and renderer together (`run.py live`, `demo`, ...).

Where each story lives:
- `loop.py`: `Show` and `ShowOptions`; the per-frame loop (input → canvas → generators → frame) and shutdown.
- `startup.py`: what opens before the loop (model and tier switcher, display, OSC surface, pen mapping, profile).
- `commands.py`: keys and OSC commands, live /param, the state reported over OSC.
- `generators.py`: pix2pix or a steered generator answers the drawing; the prompt; the CLIP score.
- `finish.py`: finished works handed to the archive writer; key S's saved files.
- `plotter.py`: /plotter/* jobs streamed to the robot bridge.
- `replay.py`: replayed sessions, replay and attract mode.
"""

from installation.runtime.show.loop import Show, ShowOptions
from installation.runtime.show.replay import Replay, default_sessions

__all__ = ["Replay", "Show", "ShowOptions", "default_sessions"]
