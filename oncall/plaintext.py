"""Which characters a person's text may hold (pure): one definition for the edge (oncall.fields.Name and Text)
and for the writers that must survive rows stored before the edge checked (calendar feeds)."""
import re

# Unicode categories no single line may hold: Cc is C0 (tab and line feed included), DEL and C1 (NEL too);
# Zl and Zp are U+2028 and U+2029, which JavaScript, some calendar parsers and str.splitlines() take for line
# breaks; Cs are lone surrogates, which no UTF-8 text (nor PostgreSQL) can hold. Unicode's stability policy
# keeps Cc, Zl and Zp fixed, so the class is written out (tests/test_plaintext.py checks it against
# unicodedata over every code point).
NOT_IN_A_LINE = ("Cc", "Zl", "Zp", "Cs")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Free text (notes, descriptions) keeps its line feeds and tabs: the same class without them.
CONTROL_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Browsers send every line break of a textarea as "\r\n" (HTML's form submission normalizes them so); a lone
# "\r" is an old Mac line break. Free text stores both as "\n".
LINE_BREAK = re.compile("\r\n?")


def first_control(text: str, *, free_text: bool = False) -> str | None:
    """The first control character or line break in `text` (free text: other than "\\n" and "\\t"), else None."""
    found = (CONTROL_IN_FREE_TEXT if free_text else CONTROL).search(text)
    return None if found is None else found.group()


def one_line(text: str) -> str:
    """`text` with every control character and line break replaced by a space: for writers of single-line
    fields, which must render whatever is stored (a name saved before names were checked)."""
    return CONTROL.sub(" ", text)



def free_text(text: str) -> str:
    """`text` with its line breaks as "\\n" and any other control character (tabs aside) replaced by a space: for
    writers of multi-line fields, which must render whatever is stored."""
    return CONTROL_IN_FREE_TEXT.sub(" ", LINE_BREAK.sub("\n", text))
