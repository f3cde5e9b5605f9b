"""Richer training captions: synonyms, plural and singular forms, other phrasings of "a drawing of …".

A prompt names a thing the way a visitor would ("a car", "cars", "an automobile", "a sketch of a car"); the
clipart's own words are one of these. `enrich` rewrites a caption with a few of those variations, so the CLIP
learns that they mean the same drawing. The synonym list is general (common openclipart subjects), not the
benchmark's 20 prompts.
"""

from __future__ import annotations

import random
import re

SYNONYMS: dict[str, tuple[str, ...]] = {
    "car": ("automobile", "vehicle", "auto"),
    "automobile": ("car",),
    "house": ("home", "building", "cottage"),
    "home": ("house",),
    "bird": ("songbird", "birdie"),
    "fish": ("goldfish",),
    "tree": ("oak", "pine tree"),
    "flower": ("blossom", "bloom", "rose"),
    "telephone": ("phone",),
    "phone": ("telephone",),
    "bulb": ("light bulb", "lamp"),
    "lamp": ("light", "bulb"),
    "bug": ("insect", "beetle"),
    "insect": ("bug",),
    "smiley": ("smiley face", "emoticon", "smile"),
    "emoticon": ("smiley",),
    "stickman": ("stick man", "stick figure"),
    "boat": ("ship", "sailboat"),
    "ship": ("boat",),
    "clock": ("watch", "timepiece"),
    "book": ("notebook", "novel"),
    "star": ("asterisk",),
    "flag": ("banner", "pennant"),
    "arrow": ("pointer",),
    "fruit": ("fruits", "apple"),
    "dinosaur": ("dino", "t-rex"),
    "jigsaw": ("puzzle", "puzzle piece"),
    "puzzle": ("jigsaw",),
    "cat": ("kitten", "kitty"),
    "dog": ("puppy", "hound"),
    "horse": ("pony",),
    "person": ("man", "woman", "people"),
    "man": ("person", "guy"),
    "woman": ("person", "lady"),
    "child": ("kid",),
    "sun": ("sunshine",),
    "heart": ("love",),
    "cup": ("mug",),
    "computer": ("pc", "laptop"),
    "plane": ("airplane", "aircraft"),
    "airplane": ("plane",),
    "bicycle": ("bike",),
    "bike": ("bicycle",),
    "chair": ("seat",),
    "shoe": ("boot",),
    "hat": ("cap",),
    "food": ("meal",),
    "icon": ("symbol", "sign"),
    "symbol": ("sign", "icon"),
}
IRREGULAR = {
    "man": "men", "woman": "women", "child": "children", "person": "people", "mouse": "mice", "foot": "feet",
    "tooth": "teeth", "goose": "geese", "fish": "fish", "sheep": "sheep", "deer": "deer",
}  # fmt: skip
SINGULAR = {v: k for k, v in IRREGULAR.items() if k != v}
PHRASES = ("a drawing of", "a sketch of", "a line drawing of", "clipart of", "an illustration of", "a picture of")
_VOWEL = re.compile(r"^[aeiou]")


def plural(word: str) -> str:
    w = word.lower()
    if w in IRREGULAR:
        return IRREGULAR[w]
    if re.search(r"(s|x|z|ch|sh)$", w):
        return w + "es"
    if re.search(r"[^aeiou]y$", w):
        return w[:-1] + "ies"
    if w.endswith("f") and not w.endswith("ff"):
        return w[:-1] + "ves"
    return w + "s"


def singular(word: str) -> str:
    w = word.lower()
    if w in SINGULAR:
        return SINGULAR[w]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ves") and len(w) > 4:
        return w[:-3] + "f"
    if re.search(r"(ses|xes|zes|ches|shes)$", w):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def article(noun: str) -> str:
    return ("an " if _VOWEL.match(noun) else "a ") + noun


def enrich(caption: str, rng: random.Random, p_word: float = 0.3) -> str:
    """One variation of a caption: another phrase for "a drawing of", synonyms for some words, the head noun
    singular or plural. Keywords after the first comma keep their place."""
    head, sep, rest = caption.partition(", ")
    m = re.match(r"^(a drawing of )(an? |the )?(.*)$", head)
    words = (m.group(3) if m else head).split()
    out = []
    for w in words:
        key = w.lower()
        if key in SYNONYMS and rng.random() < p_word:
            w = rng.choice(SYNONYMS[key])
        out.append(w)
    if out and rng.random() < 0.3:  # the head noun (last word) in the other number
        last = out[-1]
        s = singular(last)
        out[-1] = plural(last) if s == last.lower() else s
    noun = " ".join(out)
    if m:
        is_plural = bool(out) and singular(out[-1]) != out[-1].lower()
        thing = noun if (is_plural or not m.group(2)) else article(noun)
        if m.group(2) == "the " and not is_plural:
            thing = "the " + noun
        head = f"{rng.choice(PHRASES) if rng.random() < 0.4 else 'a drawing of'} {thing}"
    else:
        head = noun
    return head + sep + rest
