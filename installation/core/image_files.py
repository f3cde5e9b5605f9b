"""Image files checked before they are decoded: a small file can declare an image of billions of pixels.

The dimensions come from the file's header (Pillow reads only the header on open); an image over
`MAX_PIXELS` or `MAX_SIDE` is refused with one line before any pixel is decoded.
"""

from __future__ import annotations

from pathlib import Path

from installation.core.errors import UserError

MAX_PIXELS = 50_000_000  # a 50-megapixel photo decodes to 150 MB of RGB: the most any verb needs
MAX_SIDE = 30_000


def image_size(path: Path, what: str, unreadable_ok: bool = False) -> tuple[int, int] | None:
    """(width, height) from the header; UserError for an image too large to decode, and for an unreadable
    file unless `unreadable_ok` (then None: the caller's decoder decides, as it did before)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
    except Image.DecompressionBombError:
        raise UserError(f"{what} {path} declares an image of too many pixels to decode: give a smaller image") from None
    except (OSError, ValueError, SyntaxError) as e:  # Pillow's UnidentifiedImageError is an OSError
        if unreadable_ok:
            return None
        raise UserError(f"{what} {path} is not a readable image ({type(e).__name__}): give a PNG or JPEG") from None
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
        raise UserError(
            f"{what} {path} is {w}×{h} pixels: at most {MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} "
            "pixels a side are decoded; scale the image down"
        )
    return w, h
