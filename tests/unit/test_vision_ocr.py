"""Which of Tesseract's words the local analyzer keeps: confident, real words only."""

from app.services.rename.vision.ocr import MIN_CONFIDENCE, english_words, keep_words


def test_texture_noise_is_dropped():
    # What Tesseract made of grass, asphalt and brick in our scenes (and "sia" from a designer's lawn).
    noise = [("sia", 71), ("ee", 47), ("Vis", 46), ("van", 55), ("Gu", 40), ("oe)", 43), ("Been", 35), ("ERS", 33),
             ("RESH", 92), ("ake", 96), ("lig", 88), ("eee", 31), ("Mate", 30), ("\\", 82), ("tr)", 31)]
    assert keep_words(noise) == []


def test_confident_real_words_are_kept_in_reading_order():
    assert keep_words([("Coffee", 95), ("House", 96), ("coffee", 93)]) == ["Coffee", "House"]


def test_low_confidence_real_words_are_dropped():
    assert keep_words([("Bakery", MIN_CONFIDENCE - 1)]) == []


def test_function_words_are_not_words_of_a_photo():
    assert keep_words([("THE", 96), ("AND", 95), ("with", 94), ("SALE", 95)]) == ["SALE"]


def test_words_run_together_are_split_when_both_halves_are_words():
    assert keep_words([("FRESHBREAD", 90), ("Bakery", 96)]) == ["FRESH", "BREAD", "Bakery"]


def test_a_long_name_read_with_certainty_is_kept_though_no_list_has_it():
    assert keep_words([("Zentrova", 94)]) == ["Zentrova"]
    assert keep_words([("Zentrova", 80)]) == []  # not sure enough for a word no list has


def test_word_list_is_real_and_lower_case():
    words = english_words()
    assert len(words) > 30_000 and {"bakery", "coffee", "acme"} <= words and "sia" not in words
