"""The photographs the detector is trained and evaluated on, and random crops of them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from labelwise._params import InstanceOf, Options, check_params
from labelwise.errors import ConfigError, DataFileError, InputError, ShapeError

__all__ = ["CROP", "DEBIAN_PHOTOS", "debian_photos", "load_photos", "split_photos"]

#: Side of the square training crops.
CROP = 64
#: scikit-image's bundled photographs used when scikit-image is importable (the synthetic
#: images, and those it would have to download, are left out).
SKIMAGE_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "stereo_motorcycle",
    "text",
)
#: Photographs held out for evaluation when scikit-image's set is available.
SKIMAGE_TEST = ("chelsea", "coins", "gravel")
#: Scales at which photographs are cropped: a 64 x 64 crop then holds a recognisable part.
PHOTO_SCALES = (0.5, 0.3)
#: Width of the held-out right part of each photograph when only scikit-learn's two exist.
SPATIAL_TEST_FRACTION = 0.3

#: Photographs in Debian's desktop-background packages, read where the packages are installed
#: (``apt-get install mate-backgrounds plasma-workspace-wallpapers``): name -> (package, path).
#: Only photographs: every image of the two packages (and of ukui-wallpapers, which holds none)
#: was looked at, and the drawings, renders, gradients and logos among them are left out; no
#: image statistic tried (sensor noise, flat blocks, colour count) told the two apart reliably.
_PLASMA = "/usr/share/wallpapers"
DEBIAN_PHOTOS = {
    **{
        name: ("mate-backgrounds", f"/usr/share/backgrounds/mate/nature/{name}.jpg")
        for name in (
            "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow",
            "LadyBird", "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower",
        )
    },
    **{
        name: ("plasma-workspace-wallpapers", f"{_PLASMA}/{name}/contents/images/2560x1600.jpg")
        for name in (
            "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
            "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "summer_1am",
        )
    },
}  # fmt: skip
#: Longest side photographs read from files are brought to, near that of the bundled ones
#: (640 x 427 for scikit-learn's): a 64 x 64 crop at :data:`PHOTO_SCALES` then holds a
#: recognisable part of a wallpaper too, not a patch of texture.
FILE_PHOTO_SIDE = 640
#: Image files a folder of photographs is read for.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")

_SOURCE = {
    "source": [
        Options(("auto", "skimage", "sklearn", "debian")),
        InstanceOf((str, os.PathLike), "a folder of photographs"),
    ]
}


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    """A uint8 or float photograph as float32 H x W x 3 in [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ShapeError(f"an image must be H x W (grey) or H x W x 3/4, got shape {array.shape}.")
    array = array[:, :, :3]
    if np.issubdtype(array.dtype, np.integer):
        return (array.astype(np.float32) / 255.0).clip(0.0, 1.0)
    return array.astype(np.float32).clip(0.0, 1.0)


def load_photos(source: str | os.PathLike = "auto") -> dict[str, np.ndarray]:
    """Photographs to train and evaluate the detector on, as float RGB arrays.

    Parameters
    ----------
    source : {"auto", "skimage", "sklearn", "debian"} or path of a folder
        ``"skimage"``: scikit-image's bundled photographs (:data:`SKIMAGE_PHOTOS`) and
        scikit-learn's two sample images (china, flower). ``"sklearn"``: scikit-learn's two
        only. ``"auto"``: ``"skimage"`` when scikit-image is importable, else ``"sklearn"``.
        ``"debian"``: the photographs of :data:`DEBIAN_PHOTOS` whose package is installed
        (none otherwise). A folder: every image file in it (:data:`PHOTO_SUFFIXES`), by file
        stem; it should hold photographs only. Files are brought to a longest side of
        :data:`FILE_PHOTO_SIDE`. Nothing is downloaded.

    Returns
    -------
    dict
        Name -> float32 array H x W x 3 in [0, 1].

    Examples
    --------
    >>> photos = load_photos("sklearn")
    >>> sorted(photos), photos["china"].shape
    (['china', 'flower'], (427, 640, 3))
    """
    check_params(_SOURCE, {"source": source})
    if source == "debian":
        return debian_photos()
    if source not in ("auto", "skimage", "sklearn"):
        return _folder_photos(Path(source))
    photos = {}
    if source in ("auto", "skimage"):
        try:
            photos = _skimage_photos()
        except ImportError:
            if source == "skimage":
                raise ConfigError(
                    "source='skimage' needs scikit-image; install it or use source='sklearn'."
                ) from None
    return photos | _sklearn_photos()


def debian_photos(side: int = FILE_PHOTO_SIDE) -> dict[str, np.ndarray]:
    """The photographs of :data:`DEBIAN_PHOTOS` that are installed, by name (maybe none),
    their longest side brought to ``side``.

    Examples
    --------
    >>> photos = debian_photos()  # {} where the packages are not installed
    >>> all(p.shape[2] == 3 and max(p.shape[:2]) == FILE_PHOTO_SIDE for p in photos.values())
    True
    """
    return {
        name: _read_photo(Path(path), side)
        for name, (_, path) in DEBIAN_PHOTOS.items()
        if Path(path).is_file()
    }


def _folder_photos(folder: Path) -> dict[str, np.ndarray]:
    if not folder.is_dir():
        raise DataFileError(
            f"{str(folder)!r} is not a folder; give a folder of photographs, or one of 'auto', "
            "'skimage', 'sklearn', 'debian'."
        )
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not files:
        raise DataFileError(f"no photographs ({', '.join(PHOTO_SUFFIXES)}) in {str(folder)!r}.")
    return {path.stem: _read_photo(path) for path in files}


def _read_photo(path: Path, side: int = FILE_PHOTO_SIDE) -> np.ndarray:
    """A photograph file as float RGB, its longest side brought to ``side``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            scale = side / max(img.size)
            size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            return _as_rgb_float(np.asarray(img.resize(size, Image.LANCZOS)))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataFileError(f"could not read {str(path)!r} as a photograph ({exc}).") from exc


def _skimage_photos() -> dict[str, np.ndarray]:
    import skimage.data as skdata

    photos = {}
    for name in SKIMAGE_PHOTOS:
        image = getattr(skdata, name)()
        # The stereo pair comes as (left, right, disparity): its left view is the photograph.
        photos[name] = _as_rgb_float(image[0] if isinstance(image, tuple) else image)
    return photos


def _sklearn_photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    names = [Path(name).stem.split(".")[0] for name in bunch.filenames]
    return {name: _as_rgb_float(img) for name, img in zip(names, bunch.images, strict=True)}


def split_photos(
    photos: dict[str, np.ndarray],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split photographs into a training and a held-out evaluation part.

    scikit-image's set holds out whole photographs (:data:`SKIMAGE_TEST`); with scikit-learn's
    two photographs the right :data:`SPATIAL_TEST_FRACTION` of each is held out instead, so no
    evaluation crop shares a pixel with a training crop.

    Examples
    --------
    >>> train, test = split_photos(load_photos("sklearn"))
    >>> len(train), len(test), train[0].shape[1] + test[0].shape[1]
    (2, 2, 640)
    """
    held = [name for name in SKIMAGE_TEST if name in photos]
    if held and len(photos) > len(held):
        train = [img for name, img in photos.items() if name not in held]
        return train, [photos[name] for name in held]
    train, test = [], []
    for img in photos.values():
        cut = int(round(img.shape[1] * (1.0 - SPATIAL_TEST_FRACTION)))
        train.append(img[:, :cut])
        test.append(img[:, cut:])
    return train, test


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float H x W x C image with PIL's bilinear filter (per channel, float mode)."""
    from PIL import Image

    channels = [
        np.asarray(Image.fromarray(image[:, :, c]).resize((width, height), Image.BILINEAR))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=2).astype(np.float32)


def default_training_photos() -> tuple[list[np.ndarray], str]:
    """What a detector trains on when given no photographs, and a sentence saying so: the
    training part of :func:`load_photos` (the held-out photographs never enter).

    Debian's background photographs (:func:`debian_photos`) are not added, even where
    installed: on the validation photographs they lowered the training pattern's IoU (from
    0.507 to 0.455 at 640 px and 0.467 at 1,280 px, mean of two seeds), see docs/vision.md.
    """
    bundled, _ = split_photos(load_photos())
    return bundled, f"{len(bundled)} bundled photographs"


def _pyramid(photos: Sequence[np.ndarray], size: int = CROP) -> list[tuple[int, np.ndarray]]:
    """Each photograph at each of :data:`PHOTO_SCALES` with the photograph's index, keeping
    those that hold a ``size`` x ``size`` crop."""
    out = []
    for owner, img in enumerate(photos):
        for scale in PHOTO_SCALES:
            h, w = int(img.shape[0] * scale), int(img.shape[1] * scale)
            if h >= size and w >= size:
                out.append((owner, _resize(img, h, w)))
    if not out:
        raise InputError(
            f"no photograph is large enough for {size} x {size} crops after scaling by "
            f"{' or '.join(map(str, PHOTO_SCALES))}; pass larger photographs or a smaller size."
        )
    return out


def _crop(
    rng: np.random.Generator,
    pool: Sequence[tuple[int, np.ndarray]],
    size: int,
    avoid: int | None = None,
) -> tuple[np.ndarray, int]:
    """A random crop with a random flip and a mild colour jitter, as float H x W x 3, and the
    index of the photograph it came from.

    ``avoid`` names a photograph not to crop from (when the pool holds another one).
    """
    choices = [k for k, (owner, _) in enumerate(pool) if owner != avoid] or range(len(pool))
    owner, img = pool[choices[rng.integers(len(choices))]]
    top = rng.integers(img.shape[0] - size + 1)
    left = rng.integers(img.shape[1] - size + 1)
    crop = img[top : top + size, left : left + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    gain = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    shift = rng.uniform(-0.08, 0.08, size=3).astype(np.float32)
    return np.clip(crop * gain + shift, 0.0, 1.0), owner
