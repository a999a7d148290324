"""The demo city gets a plausible score sheet for every county-level grid of Linyi."""

import pytest

from assessment.demo import demo_assessment_seed
from assessment.models import AssessmentFact, JointMeeting, ScoreSheet

pytestmark = pytest.mark.usefixtures("demo_city")


def test_sixteen_plausible_sheets_and_a_rerun_changes_nothing(db):
    counts = demo_assessment_seed(year=2025)
    assert counts == {"score_sheets": 16}
    sheets = list(ScoreSheet.objects.filter(year=2025).order_by("-total"))
    totals = [s.total for s in sheets]
    assert len(sheets) == 16
    assert min(totals) > 0 and max(totals) - min(totals) >= 10, totals
    assert any(t < 80 for t in totals) and any(t >= 90 for t in totals), totals
    assert len({s.grade for s in sheets}) >= 3, [(s.grid.name, s.total, s.grade) for s in sheets]
    # every deduction on every sheet has its evidence
    for sheet in sheets:
        for item in sheet.items.all():
            for line in item.lines.all():
                assert line.evidence, (sheet.grid.name, line.code)
    before = (JointMeeting.objects.count(), AssessmentFact.objects.count(), totals)
    demo_assessment_seed(year=2025)
    after = (
        JointMeeting.objects.count(),
        AssessmentFact.objects.count(),
        [s.total for s in ScoreSheet.objects.filter(year=2025).order_by("-total")],
    )
    assert after == before
