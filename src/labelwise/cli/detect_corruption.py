"""``labelwise detect-corruption``: write corruption masks and overlays for a set of images."""

from __future__ import annotations

import io as _io
import os
from pathlib import Path

import numpy as np
import typer

from labelwise.cli import _ui
from labelwise.errors import DataFileError, InputError
from labelwise.io import atomic_write

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MODEL_NAME = "corruption_detector.pt"


def default_model_path() -> Path:
    """Where the trained detector is cached: ``$LABELWISE_CACHE``, else the user cache dir."""
    root = os.environ.get("LABELWISE_CACHE")
    if root:
        return Path(root) / MODEL_NAME
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "labelwise" / MODEL_NAME


def _image_paths(inputs: list[Path]) -> list[Path]:
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif item.exists():
            paths.append(item)
        else:
            raise DataFileError(f"{str(item)!r} does not exist; give image files or folders.")
    if not paths:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in the given paths.")
    return paths


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataFileError(
            f"could not read {str(path)!r} as an image ({exc}); give PNG, JPEG or TIFF files."
        ) from exc


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    small = Image.fromarray(image).resize((size, size), Image.BILINEAR)
    return np.asarray(small, dtype=np.float32).transpose(2, 0, 1) / 255.0


def _save_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    buffer = _io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())


def _overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    tinted = image.astype(np.float32)
    red = np.array([255.0, 0.0, 0.0])
    tinted[mask] = 0.45 * tinted[mask] + 0.55 * red
    return tinted.astype(np.uint8)


def _load_or_train(model: Path | None, train: bool, steps: int, seed: int):
    from labelwise.vision.corruption import CorruptionDetector

    path = model if model is not None else default_model_path()
    if path.exists() and not train:
        return CorruptionDetector.load(path), path, False
    with _ui.count_progress("Training the detector", "steps") as progress:
        det = CorruptionDetector(n_steps=steps, random_state=seed).fit(progress=progress)
    det.save(path)
    return det, path, True


def detect_corruption_command(
    images: list[Path] = typer.Argument(..., help="Image files or folders of images."),
    out: Path = _ui.out_option(Path("masks"), "Directory for masks/overlays."),
    model: Path | None = typer.Option(
        None, "--model", help="Detector weights (default: the user cache; trained if missing)."
    ),
    train: bool = typer.Option(False, "--train", help="Train (again) and save to --model first."),
    steps: int = typer.Option(2000, "--steps", min=1, help="Training steps when training."),
    seed: int = typer.Option(0, "--seed", help="Training seed."),
    size: int = typer.Option(
        64, "--size", min=16, help="Side (multiple of 4) the images are resized to for detection."
    ),
) -> None:
    """Find corrupted regions (pasted content, paint, noise, graffiti) in images.

    Writes NAME_mask.png (white = corrupted) and NAME_overlay.png (corruption tinted red) per
    image to --out, at the image's own size. Detection runs on the image resized to
    --size x --size. The first run trains the detector (seeded, a few minutes on a CPU) on the
    bundled photographs and caches it; --train retrains.
    """
    if size % 4:
        raise InputError(f"--size must be a multiple of 4, got {size}.")
    paths = _image_paths(images)
    loaded = [_read_image(p) for p in paths]  # fail on a bad file before training
    det, model_path, trained = _load_or_train(model, train, steps, seed)
    batch = np.stack([_resized(img, size) for img in loaded])
    masks = det.predict(batch)
    from PIL import Image

    console = _ui.out()
    if trained:
        console.print(
            f"Trained the detector in {det.fit_seconds_:.0f} s on {det.training_photos_}; "
            f"saved {model_path}"
        )
    for path, img, mask in zip(paths, loaded, masks, strict=True):
        full = Image.fromarray(mask.astype(np.uint8) * 255).resize(
            (img.shape[1], img.shape[0]), Image.NEAREST
        )
        full = np.asarray(full)
        _save_png(full, out / f"{path.stem}_mask.png")
        _save_png(_overlay(img, full > 127), out / f"{path.stem}_overlay.png")
        console.print(f"{path.name}: {100 * (full > 127).mean():.1f}% corrupted")
    console.print(f"Wrote {2 * len(paths)} files to {out}")
