"""bplib.testing: library functions switched off while a student's function is tested."""

import numpy as np
import pytest

from bplib import layers, neuron, testing
from bplib.neuron import output_terms as copied_earlier


def test_a_switched_off_function_raises_wherever_it_was_taken_from():
    y_hat, y = [0.5, 0.8], [1.0, 0.5]
    before = neuron.output_terms(y_hat, y)
    with testing.switched_off(neuron.output_terms, layers.Linear.forward):
        for call in (lambda: neuron.output_terms(y_hat, y), lambda: copied_earlier(y_hat, y),
                     lambda: layers.Linear.random(2, 2, np.random.default_rng(0))
                     .forward([[1.0], [2.0]])):
            with pytest.raises(RuntimeError, match="switched off"):
                call()
        assert neuron.hidden_terms  # others stay on
    assert (neuron.output_terms(y_hat, y) == before).all()
    assert (copied_earlier(y_hat, y) == before).all()


def test_functions_come_back_after_an_error_in_the_block():
    with pytest.raises(ZeroDivisionError):
        with testing.switched_off(neuron.output_terms):
            _ = 1 / 0
    assert neuron.output_terms([0.5], [1.0]).shape == (1,)


def test_only_plain_functions_are_accepted():
    with pytest.raises(TypeError, match="plain functions"):
        with testing.switched_off(len):
            pass
