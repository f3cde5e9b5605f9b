"""Which robot draws the sitter in which style (`sitter.styles`), and the one-line progress of several robots.

`sitter.styles` lists styles for the robots of `plotter.robots` (or the one `plotter.robot`), in order, cycling
when there are fewer styles than robots. An entry `HOST:PORT=STYLE` pins that robot's style; the plain names are
then dealt, in order and cycling, to the robots not pinned. Without `sitter.styles` every robot draws
`sitter.style`. Pure: the config loader calls `assign_styles` so that a mistake is one line at start-up.
"""

from __future__ import annotations

from installation.core.errors import UserError


def assign_styles(robots: list[str], styles: list[str], default: str, known: tuple[str, ...]) -> list[str]:
    """Each robot's style, in the order of `robots` (HOST:PORT strings); UserError naming the entry otherwise."""
    from installation.core.config import parse_host_port

    addresses = [parse_host_port(r, "plotter.robots[]") for r in robots]
    if not styles:
        return [default] * len(robots)
    pinned: dict[tuple[str, int], str] = {}
    plain: list[str] = []
    for entry in styles:
        where, sep, style = entry.rpartition("=")
        style = style.strip()
        if style not in known:
            raise UserError(
                f"config 'sitter.styles' has {entry!r}: each entry is a style ({', '.join(known)}) or HOST:PORT=STYLE"
            )
        if not sep:
            plain.append(style)
            continue
        addr = parse_host_port(where, "sitter.styles[]")
        if addr not in addresses:
            names = ", ".join(robots)
            raise UserError(f"config 'sitter.styles' pins {where.strip()}, which is not a robot here ({names})")
        if addr in pinned:
            raise UserError(f"config 'sitter.styles' pins {where.strip()} twice: give each robot one style")
        pinned[addr] = style
    out, k = [], 0
    for addr in addresses:
        if addr in pinned:
            out.append(pinned[addr])
        elif plain:
            out.append(plain[k % len(plain)])
            k += 1
        else:
            out.append(default)
    return out


def progress_line(rows: list[tuple[str, str, int, int]]) -> str:
    """The screen's line while several robots draw: (style, state, drawn, planned) per robot."""
    parts = []
    for i, (style, state, drawn, planned) in enumerate(rows, 1):
        if state == "given_up":
            parts.append(f"{i} {style}: stopped at {drawn} of {planned}")
        elif planned and drawn >= planned:
            parts.append(f"{i} {style}: finished")
        else:
            parts.append(f"{i} {style}: {drawn} of {planned}" + (f" ({state})" if state not in ("drawing", "") else ""))
    return "The robots are drawing you: " + " | ".join(parts)
