"""Detect corrupted regions of an image by hierarchical contrastive learning.

A corrupted region (a patch of another photo pasted in, a blob of paint, noise, graffiti) is
found without knowing what it looks like: a small convolutional encoder maps every pixel to a
unit vector, trained so that the clean pixels of an image point one way and the corrupted pixels
another. At test time each image's pixel vectors are split in two by spherical soft k-means,
first at the coarsest scale; only the pixels left uncertain there are re-clustered at the finer
scales, and a small classifier on the two cluster centres (taken in the finest features) says
which cluster is the corruption. In training, each finer scale is also taught the pixels the
coarser clustering leaves unresolved, against the coarser scale's locked-in pixels (the
hierarchical interaction between scales). Because the encoder learns *that* two regions differ
rather than what a corruption looks like, it can find corruption patterns it was not trained on
(the idea of Hierarchical Contrastive Learning, ICCV 2023, shrunk to a CPU: 64 x 64 crops,
widths 16/32/64).

Training data are made on the fly from real photographs: scikit-image's bundled photographs and
scikit-learn's two when scikit-image is installed, else scikit-learn's two alone; nothing is
downloaded. Masks use 1 for corrupted pixels.
"""

from labelwise.vision.corruption._corrupt import PATTERNS, corrupt_images, corruption_iou
from labelwise.vision.corruption._detector import MODES, CorruptionDetector, train_detector
from labelwise.vision.corruption._photos import CROP as CROP
from labelwise.vision.corruption._photos import (
    DEBIAN_PHOTOS,
    debian_photos,
    load_photos,
    split_photos,
)
from labelwise.vision.corruption._photos import PHOTO_SCALES as PHOTO_SCALES
from labelwise.vision.corruption._photos import SKIMAGE_PHOTOS as SKIMAGE_PHOTOS
from labelwise.vision.corruption._photos import SKIMAGE_TEST as SKIMAGE_TEST
from labelwise.vision.corruption._photos import SPATIAL_TEST_FRACTION as SPATIAL_TEST_FRACTION

__all__ = [
    "MODES",
    "PATTERNS",
    "CorruptionDetector",
    "corrupt_images",
    "corruption_iou",
    "DEBIAN_PHOTOS",
    "debian_photos",
    "load_photos",
    "split_photos",
    "train_detector",
]
