from rest_framework import serializers

from cases.models import ProblemCategory
from cases.selectors import duty_department_pick


class CategorySerializer(serializers.ModelSerializer):
    handling_limit = serializers.DecimalField(
        source="handling_limit_days", max_digits=5, decimal_places=1, help_text="working days"
    )
    duty = serializers.SerializerMethodField(help_text="the responsible sector per level")
    proposed_department = serializers.SerializerMethodField()

    class Meta:
        model = ProblemCategory
        fields = [
            "code",
            "name",
            "name_en",
            "handling_limit",
            "is_emergency",
            "duty",
            "proposed_department",
        ]

    def get_duty(self, category) -> list[dict]:
        return [
            {"level": r.level, "sector": r.sector.code, "sector_name": r.sector.name}
            for r in category.duty_rules.all()
        ]

    def get_proposed_department(self, category) -> dict | None:
        """With ``?grid=<code>``: the department the matrix proposes for a case in that grid."""
        grid = self.context.get("grid")
        if grid is None:
            return None
        dept = duty_department_pick(
            rules=category.duty_rules.all(),
            departments=self.context["departments"],
            level=grid.level,
        )
        return {"code": dept.code, "name": dept.name, "level": dept.level} if dept else None
