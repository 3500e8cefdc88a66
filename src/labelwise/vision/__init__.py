"""Vision: detecting corrupted image regions, and corrupting the conditions of conditional data.

The detector needs PyTorch (the ``torch`` extra); the condition-corruption functions need only
numpy.
"""

from labelwise.vision.conditions import flip_conditions, swap_captions

__all__ = ["flip_conditions", "swap_captions"]
