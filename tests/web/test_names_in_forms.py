"""Every web form field that takes a name or free text refuses each bad character of tests/test_fields.py's
tables with the API's message, changing nothing (the forms load the API's schemas; tests/test_names_http.py
sends the same values to the API)."""
import pytest

from oncall.fields import BLANK, NOT_ONE_LINE, NOT_TEXT
from tests.test_fields import bad_names, bad_texts
from tests.web.test_forms_match_api import FORMS, _an_incident, scenario, signed_in, snapshot  # noqa: F401

# (form in FORMS, form field, free text?, the schema's length, optional: a blank field is an absent one)
FIELDS = [
    ("profile", "name", False, 200, False),
    ("invite", "name", False, 200, False),
    ("create_team", "name", False, 200, False),
    ("team_settings", "name", False, 200, False),
    ("new_rotation", "name", False, 200, False),
    ("rotation_settings", "name", False, 200, False),
    ("api_token", "name", False, 200, True),
    ("integration", "name", False, 200, True),
    ("watch_item", "text", False, 500, False),
    ("handoff", "new_text", False, 500, True),
    ("declare_incident", "title", False, 500, False),
    ("declare_incident", "chat", False, 200, True),
    ("declare_incident", "description", True, 20000, True),
    ("incident_note", "text", True, 5000, False),
    ("handoff", "notes", True, 20000, True),
    ("override", "reason", True, 2000, True),
    ("take_shift", "reason", True, 2000, True),
    ("time_off", "reason", True, 2000, True),
    ("member_time_off", "reason", True, 2000, True),
    ("ask_swap", "reason", True, 2000, True),
]
NUL_PAGE = "The form contains characters that cannot be stored."


@pytest.mark.parametrize(("form", "field", "free_text", "max_length", "optional"), FIELDS,
                         ids=[f"{f[0]}.{f[1]}" for f in FIELDS])
def test_the_web_refuses_bad_names_and_texts(form, field, free_text, max_length, optional, scenario, signed_in,
                                             session):
    spec = FORMS[form]
    _actor, b = signed_in(form)
    base = spec.web_base(scenario)
    bad = bad_texts(max_length) if free_text else bad_names(max_length)
    before = snapshot(session)
    for what, value in bad.items():
        if optional and not value.strip():
            continue  # a blank optional field is an absent one, as for every form
        sent = base | {field: [value, "", ""] if field == "new_text" else value}
        response = b.post(spec.url(scenario), sent)
        html = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500, (what, html[:300])
        if "\x00" in value:  # refused before any form is read (oncall.web)
            assert NUL_PAGE in html, what
            continue
        messages = [NOT_TEXT] if free_text else [NOT_ONE_LINE, BLANK]
        messages += [f"Length must be between 1 and {max_length}.", f"Longer than maximum length {max_length}."]
        assert 'class="error-box" role="alert">' in html and any(m in html for m in messages), (what, html[:2000])
    assert snapshot(session) == before
