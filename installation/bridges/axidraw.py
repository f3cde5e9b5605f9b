"""AxiDraw pen plotters through Evil Mad Scientist's Python API (`pyaxidraw`), when it is installed.

The API's interactive mode draws path by path: moveto to the start (pen up), lineto along the path (pen down),
with millimetre units. The robot protocol, its jobs and the paper record (journal, one image per sheet) are the
simulator's; before a new sheet the pen goes up and home.
"""

from __future__ import annotations

import numpy as np

from installation.bridges.simulator import Simulator
from installation.core.errors import UserError


class AxiDrawBridge(Simulator):
    def __init__(self, **kwargs: object) -> None:
        try:
            from pyaxidraw import axidraw
        except ImportError:
            raise UserError(
                "bridge axidraw needs the AxiDraw Python API (pyaxidraw, from Evil Mad Scientist's axidraw "
                "package), which is not installed: install it, or use `bridge grbl` or `bridge sim`"
            ) from None
        self.ad = axidraw.AxiDraw()
        self.ad.interactive()
        if not self.ad.connect():
            raise UserError("no AxiDraw answered on USB: plug it in and switch it on, or use `bridge sim`")
        self.ad.options.units = 2  # millimetres
        self.ad.update()
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def draw(self, pts: np.ndarray) -> float:
        self.ad.moveto(float(pts[0][0]), float(pts[0][1]))
        for x, y in pts[1:]:
            self.ad.lineto(float(x), float(y))
        self.ad.penup()
        return 0.0  # the API returns when the machine has drawn the path

    def park(self) -> None:
        """Pen up and home, so the sheet can be changed."""
        self.ad.penup()
        self.ad.moveto(0, 0)
        super().park()

    def close(self) -> None:
        self.ad.moveto(0, 0)
        self.ad.disconnect()
        super().close()
