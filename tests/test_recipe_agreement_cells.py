"""The agreement_cells recipe: a short run, and the trained model it can hand back."""

import numpy as np

import minigrad
from minigrad.data import number_agreement
from minigrad.recipes import agreement_cells


def test_run_one_keep_model_returns_the_trained_classifier():
    plain = agreement_cells.run_one("gru", 2, 0, steps=20, eval_every=10, hidden_size=8)
    kept = agreement_cells.run_one("gru", 2, 0, steps=20, eval_every=10, hidden_size=8,
                                   keep_model=True)
    assert "model" not in plain and "vocab" not in plain
    # the same seeded run: the same numbers, plus the model and its vocabulary
    assert {k: kept[k] for k in plain if k != "train_seconds"} == {
        k: v for k, v in plain.items() if k != "train_seconds"}
    model, vocab = kept["model"], kept["vocab"]
    assert isinstance(model, agreement_cells.AgreementClassifier)
    test = number_agreement(2, n_train=4000, n_validation=400, n_test=1000, seed=2000)[2]
    x, y = agreement_cells._encode(test, vocab)
    with minigrad.no_grad():
        acc = float(((model(x).numpy() > 0) == (y > 0.5)).mean())
    assert np.isclose(acc, kept["test_accuracy"])
