"""Photographs for the corruption detector: bundled, from a folder, or from Debian's packages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from labelwise.errors import ConfigError, DataFileError
from labelwise.vision.corruption import DEBIAN_PHOTOS, debian_photos, load_photos
from labelwise.vision.corruption._photos import FILE_PHOTO_SIDE


def _write(path, width, height, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


def test_a_folder_of_photographs_is_read_by_name_at_a_common_size(tmp_path):
    _write(tmp_path / "wide.jpg", 2560, 1600)
    _write(tmp_path / "tall.png", 300, 900, seed=1)
    (tmp_path / "notes.txt").write_text("not a photograph")
    photos = load_photos(tmp_path)
    assert sorted(photos) == ["tall", "wide"]
    assert photos["wide"].shape == (400, FILE_PHOTO_SIDE, 3)
    assert photos["tall"].shape == (FILE_PHOTO_SIDE, 213, 3)
    assert all(p.dtype == np.float32 and 0 <= p.min() <= p.max() <= 1 for p in photos.values())
    assert sorted(load_photos(str(tmp_path))) == ["tall", "wide"]


def test_bad_folders_and_files_are_named(tmp_path):
    with pytest.raises(DataFileError, match="not a folder"):
        load_photos(tmp_path / "missing")
    with pytest.raises(DataFileError, match="no photographs"):
        load_photos(tmp_path)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataFileError, match="broken.jpg"):
        load_photos(tmp_path)
    with pytest.raises(ConfigError, match="source must be"):
        load_photos(3)


def test_debian_photographs_are_those_installed():
    photos = debian_photos()
    assert set(photos) <= set(DEBIAN_PHOTOS)
    assert load_photos("debian").keys() == photos.keys()
    for image in photos.values():
        assert image.ndim == 3 and max(image.shape[:2]) == FILE_PHOTO_SIDE


def test_debian_photographs_come_from_the_two_packages_only():
    packages = {package for package, _ in DEBIAN_PHOTOS.values()}
    assert packages == {"mate-backgrounds", "plasma-workspace-wallpapers"}
    assert len(DEBIAN_PHOTOS) == 23


def test_default_training_photographs_never_hold_the_test_ones():
    from labelwise.vision.corruption._photos import SKIMAGE_TEST, default_training_photos

    photos, words = default_training_photos()
    held = [image for name, image in load_photos().items() if name in SKIMAGE_TEST]
    assert not any(p.shape == h.shape and np.array_equal(p, h) for p in photos for h in held)
    assert words == f"{len(photos)} bundled photographs"  # Debian's stay out (docs/vision.md)
