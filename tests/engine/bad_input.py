"""Shared by the bad-input tests: ValueError and nothing else, and a random x."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest


@contextmanager
def value_error(match):
    """pytest.raises(ValueError, match=...) that also refuses ValueError subclasses."""
    with pytest.raises(ValueError, match=match) as info:
        yield info
    assert info.type is ValueError, f"raised {info.type.__name__}, not ValueError"


def random_x(shape=(1, 2, 5, 5)):
    return np.random.default_rng(0).standard_normal(shape)
