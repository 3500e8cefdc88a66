"""The hierarchical contrastive corruption detector and the ``detect-corruption`` command."""

from __future__ import annotations

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from labelwise.cli import _ui
from labelwise.errors import ConfigError, InputError, ShapeError

torch = pytest.importorskip("torch")

from labelwise.cli.detect_corruption import detect_corruption_command  # noqa: E402
from labelwise.vision.corruption import (  # noqa: E402
    PATTERNS,
    CorruptionDetector,
    corrupt_images,
    corruption_iou,
    load_photos,
    split_photos,
)

#: Measured after the short run below: IoU 0.626, 0.762, 0.631 for seeds 0, 1, 2, against 0.246
#: for calling every pixel corrupted.
MIN_IOU = 0.50


@pytest.fixture(scope="module")
def photos():
    return split_photos(load_photos("sklearn"))


@pytest.fixture(scope="module")
def detector(photos):
    train, _ = photos
    return CorruptionDetector(n_steps=150, batch_size=8, photos=train, random_state=0).fit()


@pytest.fixture(scope="module")
def held_out(photos):
    return corrupt_images(32, "image", photos[1], random_state=123)


def test_corrupted_images_have_masks_of_every_pattern(photos):
    for pattern in PATTERNS:
        images, masks = corrupt_images(6, pattern, photos[0], random_state=0)
        assert images.shape == (6, 3, 64, 64) and images.dtype == np.float32
        assert masks.shape == (6, 64, 64) and masks.dtype == bool
        assert 0.0 <= images.min() and images.max() <= 1.0
        assert 0.02 < masks.mean() < 0.5
    again, _ = corrupt_images(6, "graffiti", photos[0], random_state=0)
    assert np.array_equal(again, corrupt_images(6, "graffiti", photos[0], random_state=0)[0])


def test_pasted_patches_come_from_another_photograph():
    # A red and a blue "photograph": every pasted patch must be the other colour.
    red = np.zeros((200, 200, 3), np.float32)
    red[:, :, 0] = 1.0
    blue = np.zeros((200, 200, 3), np.float32)
    blue[:, :, 2] = 1.0
    images, masks = corrupt_images(20, "image", [red, blue], random_state=3)
    for image, mask in zip(images, masks, strict=True):
        clean_red = image[0][~mask].mean() > image[2][~mask].mean()
        patch_red = image[0][mask].mean() > image[2][mask].mean()
        assert clean_red != patch_red
    with pytest.raises(ConfigError, match="fill_from"):
        corrupt_images(2, "image", [red, blue], fill_from="elsewhere")


def test_crops_larger_than_the_training_size_come_from_photographs_that_hold_them(photos):
    images, masks = corrupt_images(3, "graffiti", photos[0], random_state=0, size=128)
    assert images.shape == (3, 3, 128, 128) and masks.shape == (3, 128, 128)
    with pytest.raises(InputError, match="large enough for 400 x 400"):
        corrupt_images(1, "image", photos[1], size=400)


def test_iou_counts_the_corrupted_class():
    truth = np.zeros((2, 4, 4), bool)
    truth[:, :2] = True
    assert corruption_iou(truth, truth) == 1.0
    assert corruption_iou(~truth, truth) == 0.0
    with pytest.raises(ShapeError):
        corruption_iou(truth[0], truth)


@pytest.mark.slow
def test_short_training_finds_the_training_pattern_well_above_chance(detector, held_out):
    images, truth = held_out
    masks = detector.predict(images)
    assert masks.shape == truth.shape and masks.dtype == bool
    all_corrupted = corruption_iou(np.ones_like(truth), truth)
    iou = corruption_iou(masks, truth)
    assert all_corrupted < 0.3
    assert iou >= MIN_IOU, iou


@pytest.mark.slow
def test_saved_detector_predicts_the_same(detector, held_out, tmp_path):
    path = detector.save(tmp_path / "det.pt")
    again = CorruptionDetector.load(path)
    images = held_out[0][:4]
    assert np.array_equal(again.predict(images), detector.predict(images))
    scores = again.predict_scores(images)
    assert scores.shape == (4, 64, 64) and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.slow
def test_predict_takes_channels_last_and_refuses_odd_sizes(detector, held_out):
    images = held_out[0][:2]
    assert np.array_equal(detector.predict(images.transpose(0, 2, 3, 1)), detector.predict(images))
    with pytest.raises(ShapeError, match="multiples of 4"):
        detector.predict(np.zeros((1, 3, 30, 30), np.float32))
    with pytest.raises(ShapeError, match="colour channels"):
        detector.predict(np.zeros((1, 5, 32, 32), np.float32))


def test_scikit_image_photographs_hold_out_whole_photographs_and_train_with_both_libraries():
    pytest.importorskip("skimage")
    photos = load_photos("skimage")
    train, test = split_photos(photos)
    held = [photos[name] for name in ("chelsea", "coins", "gravel")]
    assert len(test) == 3 and all(any(t is h for h in held) for t in test)
    assert len(train) == len(photos) - 3 and not any(any(t is h for h in held) for t in train)
    # Both libraries' photographs train; the stereo pair contributes its left view.
    assert {"china", "flower", "stereo_motorcycle"} <= set(photos)
    assert all(img.ndim == 3 and img.shape[2] == 3 for img in photos.values())


@pytest.mark.parametrize("mode", ["hierarchical", "single_scale"])
def test_contrastive_scores_name_one_of_two_clusters(mode, photos):
    # Two clusters and an antisymmetric classifier: a pixel scores p or 1 - p, nothing else.
    det = CorruptionDetector(mode=mode, n_steps=2, batch_size=2, photos=photos[0]).fit()
    images, _ = corrupt_images(3, "constant", photos[1], random_state=5)
    scores = det.predict_scores(images)
    for image_scores in scores:
        values = np.unique(image_scores)
        assert 1 <= len(values) <= 2
        assert np.isclose(values.min() + values.max(), 1.0) or len(values) == 1


def test_supervised_baseline_predicts_full_resolution_masks(photos):
    det = CorruptionDetector(mode="supervised", n_steps=2, batch_size=2, photos=photos[0]).fit()
    images, _ = corrupt_images(2, "image", photos[1], random_state=5)
    scores = det.predict_scores(images)
    assert scores.shape == (2, 64, 64) and ((scores >= 0) & (scores <= 1)).all()
    assert len(np.unique(scores)) > 2  # per pixel, not per cluster
    first = det.network_.segment.weight.shape[1]
    assert first == 3 * det.dim  # the classifier reads all three scales


def test_cross_scale_loss_trains_only_the_pixels_left_unresolved():
    from labelwise.vision.corruption._clustering import _cluster_image
    from labelwise.vision.corruption._losses import _hierarchy_loss

    gen = torch.Generator().manual_seed(0)
    truth = torch.zeros(2, 64, 64, dtype=torch.bool)
    truth[:, 8:40, 16:48] = True
    zs = []
    for size in (64, 32, 16):  # one direction for clean, another for corrupted, plus noise
        frac = torch.nn.functional.adaptive_avg_pool2d(truth[:, None].float(), size)
        z = torch.randn(2, 8, size, size, generator=gen) * 0.5
        z[:, :1] += 1 - frac
        z[:, 1:2] += frac
        zs.append(torch.nn.functional.normalize(z, dim=1).requires_grad_())
    clusterings = [_cluster_image([z[i].detach() for z in zs], 0.1, 3, 0.95, True) for i in (0, 1)]
    loss = _hierarchy_loss(zs, truth, clusterings, 0.1, 32, gen)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert zs[2].grad is None  # the coarsest scale only gives detached references
    for result in clusterings:
        assert [stage.scale for stage in result.stages] == [1, 0]
    for i, result in enumerate(clusterings):
        for stage in result.stages:
            touched = zs[stage.scale].grad[i].abs().sum(0) > 0
            assert touched.any() and not (touched & ~stage.unresolved).any()


def test_unfitted_and_misconfigured_detectors_are_refused():
    with pytest.raises(ConfigError, match="not fitted"):
        CorruptionDetector().predict(np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ConfigError, match="mode"):
        CorruptionDetector(mode="magic").fit()


def _app() -> typer.Typer:
    app = typer.Typer(cls=_ui.LabelwiseGroup)
    app.command("detect-corruption")(detect_corruption_command)

    @app.command("other")
    def _other() -> None:  # a second command keeps typer from flattening the group
        """Unused."""

    return app


@pytest.mark.slow
def test_command_writes_masks_and_overlays_at_each_images_size(detector, held_out, tmp_path):
    from PIL import Image

    model = detector.save(tmp_path / "model.pt")
    folder = tmp_path / "images"
    folder.mkdir()
    images = (held_out[0][:3].transpose(0, 2, 3, 1) * 255).astype(np.uint8)
    Image.fromarray(images[0]).save(folder / "a.png")
    Image.fromarray(images[1]).resize((90, 50)).save(folder / "b.png")  # not 64 x 64
    Image.fromarray(images[2]).save(folder / "c.jpg")
    out = tmp_path / "masks"
    result = CliRunner().invoke(
        _app(), ["detect-corruption", str(folder), "--out", str(out), "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    for stem, size in (("a", (64, 64)), ("b", (90, 50)), ("c", (64, 64))):
        mask = Image.open(out / f"{stem}_mask.png")
        assert mask.size == size and mask.mode == "L"
        assert set(np.unique(np.asarray(mask))) <= {0, 255}
        assert Image.open(out / f"{stem}_overlay.png").size == size


def test_command_refuses_a_file_that_is_not_an_image(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = CliRunner().invoke(
        _app(), ["detect-corruption", str(bad), "--model", str(tmp_path / "m.pt")]
    )
    assert result.exit_code == _ui.EXIT_BAD_INPUT
    assert "could not read" in result.output
    assert not (tmp_path / "m.pt").exists()  # refused before any training
