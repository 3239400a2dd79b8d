"""The team's report page: the period picker, the charts and the same numbers as tables, members only."""
from datetime import timedelta

import pytest

from oncall.incidents import service as incidents
from oncall.web import report_charts, timefmt


def test_the_page_shows_each_persons_hours_and_the_response_table(browser, scenario, session):
    incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Checkout slow",
                              now=scenario.now - timedelta(hours=2))
    session.commit()
    page = browser(scenario.bob).get(f"/teams/{scenario.team_id}/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Alice Admin", "Bob Member", "Carol Member"):
        assert name in html
    assert 'id="load-table"' in html and 'id="response-table"' in html and "<svg" in html
    assert "SEV2" in html and "15m 00s" in html, "the SEV2 target"
    # A daily rotation of three over the last 4 weeks: about 224 hours each.
    assert html.count("<tr><th scope=\"row\">") >= 3 + 4


def test_the_period_picker(browser, scenario):
    b = browser(scenario.alice)
    quarter = b.get(f"/teams/{scenario.team_id}/reports?period=quarter").get_data(as_text=True)
    assert 'value="quarter" checked' in quarter
    start = (scenario.now - timedelta(days=10)).date().isoformat()
    end = (scenario.now - timedelta(days=4)).date().isoformat()
    custom = b.get(f"/teams/{scenario.team_id}/reports?period=custom&start={start}&end={end}").get_data(as_text=True)
    assert 'value="custom" checked' in custom and f'value="{start}"' in custom and f'value="{end}"' in custom
    bad = b.get(f"/teams/{scenario.team_id}/reports?period=custom&start={end}&end={start}").get_data(as_text=True)
    assert "The end must be after the start" in bad and 'value="4w" checked' in bad
    empty = b.get(f"/teams/{scenario.team_id}/reports?period=custom&start=&end=").get_data(as_text=True)
    assert "Choose a start and an end date." in empty
    for start, end in (("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2026-01-01", "9999-12-31")):
        far = b.get(f"/teams/{scenario.team_id}/reports?period=custom&start={start}&end={end}")
        assert far.status_code == 200 and "Choose dates between" in far.get_data(as_text=True)


def test_only_members_see_it(browser, scenario):
    assert browser(scenario.outsider).get(f"/teams/{scenario.team_id}/reports").status_code == 404
    assert browser().get(f"/teams/{scenario.team_id}/reports").status_code in (302, 303)


def test_stacked_bars_share_one_scale_and_keep_their_values():
    chart = report_charts.stacked_bars([("Ann", [("night", 63.0), ("day", 105.0)]), ("Ben", [("day", 40.0)])], "hours")
    assert chart.scale_max == 200
    ann, ben = chart.rows
    assert [s.kind for s in ann.segments] == ["night", "day"] and ann.total == 168
    assert ann.segments[1].x == pytest.approx(ann.segments[0].x + ann.segments[0].width)
    assert ben.segments[0].width / ann.segments[1].width == pytest.approx(40 / 105)


def test_the_target_line_sits_at_the_target():
    chart = report_charts.against_target("SEV1", [("2026-01", 2.0), ("2026-02", None), ("2026-03", 10.0)], 5.0)
    assert chart.scale_max == 10
    assert chart.target_y == pytest.approx(130 - 120 * 5 / 10)
    assert [c.height for c in chart.columns] == [pytest.approx(24.0), 0, pytest.approx(120.0)]


@pytest.mark.parametrize(("seconds", "text"), [(None, "\u2013"), (45, "45s"), (270, "4m 30s"), (3900, "1h 05m"),
                                               (90000, "1d 1h")])
def test_durations(seconds, text):
    assert timefmt.duration(seconds) == text
