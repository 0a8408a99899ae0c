"""PixelCNN and MADE generate alike: ``sample`` and ``complete`` take ``temperature``,
``method`` and ``generator`` as keywords, the value to complete is ``x`` in both, and the
old spellings (``images=``, positional ``method``/``generator``) still work with a
DeprecationWarning (pygen.distributions._deprecation)."""

from __future__ import annotations

import inspect

import pytest
import torch

from pygen.distributions import MADE, PixelCNNBernoulliDistribution

KEYWORDS = ["temperature", "method", "generator"]


def _models() -> list[torch.nn.Module]:
    torch.manual_seed(0)
    return [
        PixelCNNBernoulliDistribution([1, 3, 3], hidden_channels=4, num_layers=2),
        MADE([9], hidden_sizes=[8]),
    ]


def _seed(value: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(value)


@pytest.mark.parametrize("model", _models(), ids=["pixelcnn", "made"])
def test_sample_and_complete_take_the_same_keywords_and_the_same_first_name(model) -> None:
    sample = inspect.signature(model.sample).parameters
    complete = inspect.signature(model.complete).parameters
    assert next(iter(complete)) == "x"
    for parameters in (sample, complete):
        keyword_only = [
            name
            for name, parameter in parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        assert keyword_only == KEYWORDS
    assert list(sample)[:2] == ["sample_shape", "condition"]


@pytest.mark.parametrize("model", _models(), ids=["pixelcnn", "made"])
def test_a_non_binary_observed_value_is_refused_naming_x(model) -> None:
    shape = model.event_shape
    x = torch.zeros(shape)
    x.view(-1)[0] = 0.5
    mask = torch.ones(shape, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"^x: expected binary values \(0 or 1\).*found 0\.5"):
        model.complete(x, mask)
    mask.view(-1)[0] = False  # an unobserved 0.5 is never read
    assert model.complete(x, mask).shape == shape


def test_pixelcnn_complete_still_takes_images_with_a_deprecation_warning() -> None:
    model = _models()[0]
    x = torch.ones(2, 1, 3, 3)
    mask = torch.zeros(1, 3, 3, dtype=torch.bool)
    mask[:, 0] = True
    expected = model.complete(x, mask, (2,), generator=_seed())
    with pytest.warns(DeprecationWarning, match=r"complete: the argument images= is now called x="):
        old = model.complete(images=x, observed_mask=mask, sample_shape=(2,), generator=_seed())
    assert torch.equal(old, expected)
    with pytest.raises(TypeError, match=r"got both x= and its old name images="):
        model.complete(x=x, images=x, observed_mask=mask)


def test_positional_method_and_generator_still_work_with_a_deprecation_warning() -> None:
    pixelcnn, made = _models()
    expected = pixelcnn.sample((2,), method="naive", generator=_seed())
    with pytest.warns(DeprecationWarning, match=r"sample: pass method=, generator= by keyword"):
        old = pixelcnn.sample((2,), None, "naive", _seed())
    assert torch.equal(old, expected)
    expected = made.sample((3,), generator=_seed(1))
    with pytest.warns(DeprecationWarning, match=r"sample: pass generator= by keyword"):
        old = made.sample((3,), None, _seed(1))
    assert torch.equal(old, expected)
    with pytest.raises(TypeError, match=r"got generator both positionally and as generator="):
        made.sample((3,), None, _seed(1), generator=_seed(1))
    with pytest.raises(TypeError, match=r"expected at most 2 positional arguments"):
        made.sample((3,), None, _seed(1), "fast")
