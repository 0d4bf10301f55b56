"""Sentiment models: known answers in both languages, odd inputs, persistence, registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopmind.errors import InputError, NotFittedError, UnknownNameError
from shopmind.reviews import available_models, create_model, load_model
from shopmind.reviews.cascade import Band
from shopmind.reviews.ngram_model import NgramSentiment
from shopmind.reviews.stack_model import StackedSentiment, _finite

POSITIVE = ["质量非常好，物流也快，很满意，下次还会买", "宝贝收到了，很喜欢，性价比超高，推荐购买",
            "Love it! Works great and sounds amazing.", "Excellent product, very happy with it"]
NEGATIVE = ["质量太差了，用了两天就坏了，非常失望", "垃圾产品，客服不理人，千万别买",
            "Terrible. Stopped working after a week, waste of money.",
            "Very disappointed, it keeps disconnecting and support was useless."]


def test_clear_reviews_in_both_languages(ngram_model: NgramSentiment) -> None:
    assert ngram_model.predict(POSITIVE).tolist() == [1] * len(POSITIVE)
    assert ngram_model.predict(NEGATIVE).tolist() == [0] * len(NEGATIVE)


def test_odd_inputs_give_results(ngram_model: NgramSentiment) -> None:
    odd = ["", "😀😀😀👍", "这个 speaker 音质 great，但是 wifi 老是断", "好" * 1_000_000]
    proba = ngram_model.predict_proba(odd)
    assert proba.shape == (4,) and np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert ngram_model.predict_proba([]).shape == (0,)


def test_texts_without_words_get_the_training_prior(ngram_model: NgramSentiment,
                                                    tmp_path: Path) -> None:
    prior = ngram_model.prior_
    assert prior is not None and 0 < prior < 1
    proba = ngram_model.predict_proba(["", "😀😀🔥", "!!! ...", "质量很好"])
    assert proba[:3].tolist() == [prior] * 3 and proba[3] != prior
    assert load_model(ngram_model.save(tmp_path / "m")).prior_ == prior
    model = load_model(tmp_path / "m")
    model.prior_, model.threshold_ = 0.6, 0.61  # tuned on texts with words
    assert model.predict(["", "🙂"]).tolist() == [1, 1]  # the majority of wordless texts


def test_save_and_load_give_the_same_scores(ngram_model: NgramSentiment, tmp_path: Path
                                            ) -> None:
    folder = ngram_model.save(tmp_path / "m")
    again = load_model(folder)
    texts = POSITIVE + NEGATIVE
    np.testing.assert_allclose(again.predict_proba(texts), ngram_model.predict_proba(texts),
                               rtol=1e-5)


def test_stack_chooses_on_validation_and_round_trips(
        bilingual_sample: tuple[list[str], np.ndarray], tmp_path: Path) -> None:
    texts, labels = bilingual_sample
    model = StackedSentiment(backends=("hashing",), C_grid=(4.0,)).fit(texts[:1500],
                                                                       labels[:1500])
    report = model.validation_
    assert set(report["candidates"]) == {"ngram", "hashing", "ngram+hashing"}
    assert report["winner"] in report["candidates"]
    assert report["margin_macro_f1"] >= -0.001  # a blend may win a tie with its encoder
    # 1,500 reviews hold few English negatives: check the Chinese ones
    assert model.predict(POSITIVE[:2] + NEGATIVE[:2]).tolist() == [1, 1, 0, 0]
    again = load_model(model.save(tmp_path / "stack"))
    np.testing.assert_allclose(again.predict_proba(NEGATIVE), model.predict_proba(NEGATIVE),
                               rtol=1e-5)


def test_user_errors_are_clear() -> None:
    with pytest.raises(UnknownNameError, match=r"available: .*stack"):
        create_model("bert")
    assert {"ngram", "embedding", "stack"} <= set(available_models())
    with pytest.raises(NotFittedError):
        NgramSentiment().predict(["x"])
    with pytest.raises(InputError, match="both 0 and 1"):
        NgramSentiment().fit(["a", "b"], [1, 1])
    with pytest.raises(InputError, match="must be 0"):
        NgramSentiment().fit(["a", "b"], [1, 5])
    with pytest.raises(InputError, match="one label each"):
        NgramSentiment().fit(["a", "b"], [1])
    with pytest.raises(InputError, match=r"model\.json missing"):
        load_model("/nonexistent/folder")
    for tolerance in (-0.1, float("nan"), 1.5):
        with pytest.raises(InputError, match="cascade_tolerance"):
            StackedSentiment(backends=("hashing",), cascade_tolerance=tolerance).fit(
                ["good", "bad"], [1, 0])


def test_stack_picks_its_encoder_by_training_set_size() -> None:
    model = StackedSentiment(kfold_max_rows=100)
    assert model._choose_backends(["a"] * 100) == ("e5-fast",)  # few labels: the stronger
    assert model._choose_backends(["a"] * 101) == ("use",)  # many labels: the cheaper one
    assert StackedSentiment(backends=("hashing",))._choose_backends(["a"]) == ("hashing",)


def test_stack_gives_up_e5_when_embedding_would_not_fit_its_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shopmind.reviews.stack_model as stack

    monkeypatch.setattr(stack, "ESTIMATE_MIN_CHARS", 0)
    texts = [f"review number {i} says the speaker is fine" for i in range(60)]
    assert StackedSentiment(encoder_budget_s=0.0)._choose_backends(texts) == ("use",)
    roomy = StackedSentiment(encoder_budget_s=3600.0)
    assert roomy._choose_backends(texts) == ("e5-fast",)
    assert 0 < roomy.encoder_estimate_s_ < 60


def test_stack_validation_keeps_copies_of_a_text_together() -> None:
    from shopmind.reviews.stack_model import _duplicate_groups

    groups = _duplicate_groups(["love it", "bad", "love it", "ok", "bad"])
    assert groups[0] == groups[2] and groups[1] == groups[4]
    assert len(set(groups.tolist())) == 3


def test_cascade_sends_only_unclear_texts_to_the_encoder() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    sign = 2 * y - 1
    ngram = sign * rng.gamma(2.0, 1.0, 2000) + rng.normal(0, 1, 2000)  # mostly clear
    encoder = sign + rng.normal(0, 1, 2000)
    model = StackedSentiment(backends=("enc",), cascade_tolerance=0.001)
    model.parts_, model.blend_, model.threshold_ = ["ngram", "enc"], np.r_[1.0, 1.0, 0.0], 0.5
    model.validation_ = {}
    model._fit_cascade(np.c_[ngram, encoder], y)
    band = model.band_
    assert 0.3 < band.skip_share < 1.0
    assert band.macro_f1 >= band.full_macro_f1 - 0.001
    assert model.validation_["cascade"]["skip_share"] == band.skip_share
    model.band_ = Band(-np.inf, band.high, band.skip_share, band.macro_f1, band.full_macro_f1)
    assert _finite(model.band_.low) is None  # an open side is written as null, not -Infinity
    json.dumps(model.validation_, allow_nan=False)
    model.band_ = band
    sent: list[int] = []

    def part_logits(name: str, texts: list[str]) -> np.ndarray:
        rows = np.array([int(t) for t in texts])
        if name == "enc":
            sent.extend(rows.tolist())
            return encoder[rows]
        return ngram[rows]

    model._part_logits = part_logits  # type: ignore[method-assign]
    predicted = model._proba([str(i) for i in range(2000)]) >= 0.5
    inside = band.needs_encoder(ngram)
    assert sorted(sent) == np.flatnonzero(inside).tolist()
    full = ngram + encoder >= 0
    assert (predicted[inside] == full[inside]).all()
    assert predicted[ngram >= band.high].all() and not predicted[ngram <= band.low].any()


def test_a_damaged_model_folder_is_a_clear_error(ngram_model: NgramSentiment, tmp_path: Path
                                                 ) -> None:
    ngram_model.save(tmp_path / "m")
    (tmp_path / "m" / "arrays.npz").unlink()
    with pytest.raises(InputError, match=r"arrays\.npz is missing"):
        load_model(tmp_path / "m")
    ngram_model.save(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text('{"format": ')
    with pytest.raises(InputError, match=r"model\.json: not valid JSON"):
        load_model(tmp_path / "m")
