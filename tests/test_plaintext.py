"""Which characters a text may hold: the written-out class matches Unicode's categories, and the writers'
cleaners leave no control character behind."""
import sys
import unicodedata

import pytest

from oncall.plaintext import CONTROL, CONTROL_IN_FREE_TEXT, NOT_IN_A_LINE, first_control, free_text, one_line


def test_the_class_is_exactly_the_categories_over_every_code_point():
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        in_class = unicodedata.category(char) in NOT_IN_A_LINE
        assert bool(CONTROL.match(char)) == in_class, f"U+{code:04X}"
        assert bool(CONTROL_IN_FREE_TEXT.match(char)) == (in_class and char not in "\n\t"), f"U+{code:04X}"


POISON = ["Eve\r\nBEGIN:VEVENT\r\nSUMMARY:x", "Eve\rBEGIN:VEVENT", "Eve\nx", "Eve\x00", "Eve\x1b[31m", "Eve\u2028x",
          "Eve\u2029x", "Eve\x85x", "Eve\x7f", "Eve\tx", "\x0b\x0c\x1c\x1d\x1e\x1f", "Eve\ud800"]


@pytest.mark.parametrize("text", POISON)
def test_one_line_leaves_no_control_character(text):
    cleaned = one_line(text)
    assert first_control(cleaned) is None and len(cleaned) == len(text)
    assert cleaned.splitlines() == [cleaned]


@pytest.mark.parametrize("text", POISON)
def test_free_text_keeps_only_line_feeds_and_tabs(text):
    cleaned = free_text(text)
    assert first_control(cleaned, free_text=True) is None and "\r" not in cleaned


@pytest.mark.parametrize(("text", "lines"), [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("a\nb\tc", "a\nb\tc"),
                                             ("a\r\n\r\nb", "a\n\nb"), ("a\x1bb", "a b")])
def test_free_text_writes_line_breaks_as_line_feeds(text, lines):
    assert free_text(text) == lines


@pytest.mark.parametrize("text", ["Zoë Ñúñez, Jr.; \"Z\"", "李雷", "Ayşe", "O'Brien", "‮evil", "a\u200db", "  spaced  "])
def test_printable_text_is_left_alone(text):
    assert one_line(text) == free_text(text) == text and first_control(text) is None
