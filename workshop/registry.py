"""Every lab, by number. Listed one by one so that a lab is found by reading
this file, and a lab module that fails to import fails loudly."""

from __future__ import annotations

from workshop.base import Lab
from workshop.labs import lab01, lab02, lab03, lab04, lab05, lab06, lab07

LABS: dict[int, Lab] = {
    module.LAB.number: module.LAB for module in (lab01, lab02, lab03, lab04, lab05, lab06, lab07)
}
