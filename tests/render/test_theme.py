"""The palettes: a hue of its own for every gate of a model, told apart with every common
colour-vision deficiency, found the way the cell diagram looks them up."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gru_tui.engine import TABLES
from gru_tui.render.theme import VECTORS, palette, vector_colour

PALETTES = {"dark": palette(True), "light": palette(False), "projector": palette(projector=True)}
GATES = {model: [g.letter for g in TABLES[model].gates if g.squash == "σ"]
         for model in ("gru", "lstm")}

# Machado, Oliveira & Fernandes (2009), severity 1: linear RGB → as the viewer sees it.
SIMULATIONS = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def linear(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear sRGB."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb_linear, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def difference(a: str, b: str, seen_as: np.ndarray) -> float:
    """CIE76 ΔE between two colours as a viewer with this vision sees them."""
    return float(np.linalg.norm(lab(seen_as @ linear(a)) - lab(seen_as @ linear(b))))


@pytest.mark.parametrize("name", PALETTES)
@pytest.mark.parametrize("model", ["gru", "lstm"])
def test_every_gate_of_a_model_has_a_hue_of_its_own(name, model):
    colours = PALETTES[name]
    hues = [colours[f"{model}.{letter}"] for letter in GATES[model]]
    assert len(set(hues)) == len(hues)
    for (a, b), (vision, seen_as) in itertools.product(itertools.combinations(hues, 2),
                                                        SIMULATIONS.items()):
        assert difference(a, b, seen_as) >= 20, (name, model, a, b, vision)


@pytest.mark.parametrize("name", PALETTES)
def test_the_diagram_finds_every_gate_and_the_panels_agree(name):
    """`palette.get(f"{kind}.{letter}", palette["gate"])` (the cell diagram's lookup) gives
    the colour the panels paint the gate's bars in; candidates and states take their sign's."""
    colours = PALETTES[name]
    for model in ("gru", "lstm"):
        for info in VECTORS[model]:
            gate = next((g for g in TABLES[model].gates if g.name == info.key), None)
            if gate is not None and gate.squash == "σ":
                expected = colours.get(f"{model}.{gate.letter}", colours["gate"])
                assert vector_colour(colours, info, 0.3) == expected != colours["gate"] or \
                    expected == colours["gate"] == vector_colour(colours, info, 0.3)
            else:
                assert vector_colour(colours, info, 0.3) == colours["positive"]
                assert vector_colour(colours, info, -0.3) == colours["negative"]


def test_the_projector_palette_has_no_dim_or_italic_text():
    colours = PALETTES["projector"]
    for key in ("text.muted", "text.note"):
        assert "dim" not in colours[key] and "italic" not in colours[key]
