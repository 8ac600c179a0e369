"""The Inception-FID path (``evaluation.inception``): image layout, clear errors before any work,
and, where pytorch-fid is installed (the optional extra ``.[inception]``), features from a weights
file loaded through pytorch-fid's own network (random weights saved by the test: the real ones
cannot be downloaded here)."""

import sys

import jax
import numpy as np
import pytest

from mmvae_nb.evaluation.fid import frechet_distance
from mmvae_nb.evaluation.inception import (
    FEATURE_DIM,
    WEIGHTS_FILE,
    InceptionFeatures,
    as_channels_first,
    check_weights,
)


def test_flat_hwc_images_become_channels_first():
    images = np.random.default_rng(0).uniform(size=(4, 28, 28, 3))
    chw = as_channels_first(images.reshape(4, -1))
    assert chw.shape == (4, 3, 28, 28) and chw.dtype == np.float32
    np.testing.assert_allclose(chw[2, 1], images[2, :, :, 1], rtol=1e-6)  # channel 1 of image 2
    np.testing.assert_array_equal(chw, as_channels_first(images))


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="not"):
        as_channels_first(np.zeros((2, 100)))
    with pytest.raises(ValueError, match=r"\(n, H, W, 3\)"):
        as_channels_first(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_channels_first(np.full((2, 28, 28, 3), 255.0))


def test_missing_weights_or_library_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=WEIGHTS_FILE):
        check_weights(tmp_path / "absent.pth")
    weights = tmp_path / WEIGHTS_FILE
    weights.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "pytorch_fid", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pytorch_fid.inception", None)
    with pytest.raises(ImportError, match=r"\[inception\]"):
        check_weights(weights)


@pytest.fixture
def random_weights(tmp_path, monkeypatch):
    """A state dict of pytorch-fid's FID Inception with its random initial weights, saved."""
    torch = pytest.importorskip("torch")
    inception = pytest.importorskip("pytorch_fid.inception")
    with monkeypatch.context() as patch:  # build the network without fetching its weights
        patch.setattr(inception, "load_state_dict_from_url", lambda *a, **k: None)
        patch.setattr(torch.nn.Module, "load_state_dict", lambda self, state, **k: None)
        torch.manual_seed(0)
        network = inception.fid_inception_v3()
    path = tmp_path / "weights.pth"
    torch.save(network.state_dict(), path)
    return path, network.state_dict()


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # 6 images, 2048 features
def test_features_come_from_the_supplied_weights(random_weights):
    path, state = random_weights
    features = InceptionFeatures(path)
    first = features.network.blocks[0][0].conv.weight.detach().cpu().numpy()
    np.testing.assert_array_equal(first, state["Conv2d_1a_3x3.conv.weight"].numpy())
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=(6, 2352)), rng.uniform(size=(6, 2352)) ** 4  # darker images
    fa = features(a)
    assert fa.shape == (6, FEATURE_DIM) and np.isfinite(fa).all()
    np.testing.assert_allclose(features(a), fa, rtol=1e-6)  # deterministic (eval mode)
    assert frechet_distance(fa, fa) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(fa, features(b)) > 0


def test_the_relational_section_refuses_missing_weights_before_training(tmp_path):
    from mmvae_nb.experiments.relational.experiment import RelationalExperiment

    with pytest.raises(FileNotFoundError, match=WEIGHTS_FILE):
        RelationalExperiment("smoke", inception_weights=str(tmp_path / "absent.pth"))


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_the_relational_section_adds_the_seed_fid_cells(random_weights, tmp_path, monkeypatch):
    """With weights, every input set of the seed's Table 2 gets an Inception ``fid`` row whose
    keys are a cell of the vendored seed table (so the table and the scorecard join them)."""
    from flax import nnx

    from mmvae_nb.experiments.relational import experiment as relational
    from mmvae_nb.reference import paper_table

    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    path, _ = random_weights
    experiment = relational.RelationalExperiment("smoke", progress=False, inception_weights=path)
    model = relational.make_relational_model("MoPoE", experiment.config.model, rngs=nnx.Rngs(0))
    rows = experiment.evaluate_model(model, jax.random.key(0))
    fid = rows[rows["metric"] == relational.INCEPTION_FID_METRIC]
    paper = paper_table("relational_table02_polymnist_fid")
    assert set(fid["inputs"]) == {relational.subset_label(s) for s in relational.FID_INPUTS}
    assert set(zip(fid.metric, fid.target, fid.inputs)) <= set(
        zip(paper.metric, paper.target, paper.inputs)
    )
    assert (fid["value"] > 0).all() and np.isfinite(fid["value"]).all()
