"""HumanML3D-style captions from action templates.

Each action carries verb-phrase templates with ``<verb>`` markers and a ``{side}`` slot; this
module conjugates the marked verbs (third person for "a person waves ...", gerund for
"before waving ...", base form for "after that, they wave ..."), fills in the side and joins
segments with composition words, lower-case and ending with a full stop, like HumanML3D.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .actions import get_action

SUBJECTS = ("a person", "a person", "someone", "the person", "a human")
_DOUBLE = {"run", "jog", "hop", "sit", "clap", "step", "dig", "stop", "skip", "put", "get", "hit", "spin", "jab",
           "drag", "grab", "chop", "tap", "shrug", "nod", "swim", "bob", "trot"}
_IRREGULAR_3RD = {"do": "does", "go": "goes", "have": "has", "be": "is"}
_VERB = re.compile(r"<([^>]+)>")


def third_person(verb: str) -> str:
    """``wave`` -> ``waves``; multi-word verbs conjugate their last word (``shadow box`` -> ``shadow boxes``)."""
    head, _, last = verb.rpartition(" ")
    if last in _IRREGULAR_3RD:
        out = _IRREGULAR_3RD[last]
    elif last.endswith(("s", "sh", "ch", "x", "z", "o")):
        out = last + "es"
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        out = last[:-1] + "ies"
    else:
        out = last + "s"
    return f"{head} {out}" if head else out


def gerund(verb: str) -> str:
    """``wave`` -> ``waving``, ``run`` -> ``running``, ``lie`` -> ``lying``."""
    head, _, last = verb.rpartition(" ")
    if last.endswith("ie"):
        out = last[:-2] + "ying"
    elif last.endswith("e") and not last.endswith(("ee", "ye", "oe")) and last != "be":
        out = last[:-1] + "ing"
    elif last in _DOUBLE:
        out = last + last[-1] + "ing"
    else:
        out = last + "ing"
    return f"{head} {out}" if head else out


def render(template: str, form: str, side: Optional[str]) -> str:
    """Fill a template: ``form`` is ``'3rd'``, ``'ger'`` or ``'base'``."""
    fn = {"3rd": third_person, "ger": gerund, "base": lambda v: v}[form]
    text = _VERB.sub(lambda m: fn(m.group(1)), template)
    text = text.replace("{side}", side or "")
    return re.sub(r"\s+", " ", text).strip()


_PATTERNS = {
    1: ["{S} {a3}.", "{S} {a3}.", "{S} {a3} {adv}."],
    2: ["{S} {a3}, then {b3}.", "{S} {a3} and then {b3}.", "{S} {a3} before {bg}.",
        "{S} {a3}. after that, they {bb}.", "after {ag}, {S} {b3}.", "{S} first {a3}, then {b3}."],
    3: ["{S} {a3}, then {b3}, and then {c3}.", "{S} {a3}, {b3} and then {c3}.",
        "{S} first {a3}, then {b3}, and finally {c3}.", "{S} {a3} before {bg}, then {c3}.",
        "{S} {a3}, then {b3}. after that, they {cb}."],
}


def caption_segments(segments: Sequence[Dict], rng: np.random.Generator, n: int = 3) -> Tuple[List[str], List[str]]:
    """``n`` distinct captions for a clip's segments (``action``, ``side`` and optional ``speed``)
    and the ids of the templates used (``pattern:k`` and ``action:i`` per segment)."""
    k = len(segments)
    if k < 1 or k > 3:
        raise ValueError(f"captions support 1-3 segments, got {k}")
    captions: List[str] = []
    used: List[str] = []
    for _ in range(n * 4):
        if len(captions) == n:
            break
        pat_i = int(rng.integers(len(_PATTERNS[k])))
        fill: Dict[str, str] = {"S": str(rng.choice(SUBJECTS))}
        ids = [f"pattern{k}:{pat_i}"]
        for letter, seg in zip("abc", segments):
            spec = get_action(seg["action"])
            # a one-sided motion is always described with its side; a side-free one never is
            has_side = seg.get("side") is not None
            ok = [i for i, t in enumerate(spec.templates) if ("{side}" in t) == has_side] or list(range(len(spec.templates)))
            ti = ok[int(rng.integers(len(ok)))]
            tpl = spec.templates[ti]
            ids.append(f"{spec.name}:{ti}")
            fill[letter + "3"] = render(tpl, "3rd", seg.get("side"))
            fill[letter + "g"] = render(tpl, "ger", seg.get("side"))
            fill[letter + "b"] = render(tpl, "base", seg.get("side"))
        speed = segments[0].get("speed", 1.0)
        fill["adv"] = "quickly" if speed > 1.08 else ("slowly" if speed < 0.92 else "")
        text = _PATTERNS[k][pat_i].format(**fill)
        text = re.sub(r"\s+([.,])", r"\1", re.sub(r"\s+", " ", text)).strip().lower()
        if text not in captions:
            captions.append(text)
            used.append("|".join(ids))
    return captions, used
