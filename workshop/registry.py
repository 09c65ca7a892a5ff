"""Every lab, by number. The list of modules is explicit so that a lab is
found by reading this file, not by scanning a folder."""

from __future__ import annotations

import importlib

from workshop.base import Lab

_MODULES = ("lab01", "lab02", "lab03", "lab04", "lab05", "lab06", "lab07")


def _load() -> dict[int, Lab]:
    labs: dict[int, Lab] = {}
    for name in _MODULES:
        try:
            module = importlib.import_module(f"workshop.labs.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"workshop.labs.{name}":
                raise  # a lab that exists but imports something missing is a bug, not an absent lab
            continue
        lab: Lab = module.LAB
        labs[lab.number] = lab
    return dict(sorted(labs.items()))


LABS: dict[int, Lab] = _load()
