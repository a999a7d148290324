from rest_framework import serializers

from grids.models import Department, Grid, GridRole


class GridRoleSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.__str__")
    phone = serializers.CharField(source="user.phone")
    department = serializers.CharField(source="department.code", default=None)

    class Meta:
        model = GridRole
        fields = [
            "role",
            "username",
            "name",
            "phone",
            "employment",
            "department",
            "starts_on",
            "ends_on",
        ]


class GridListSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None)
    children_count = serializers.IntegerField()

    class Meta:
        model = Grid
        fields = [
            "code",
            "name",
            "level",
            "kind",
            "parent",
            "children_count",
            "active_from",
            "active_until",
        ]


class GridDetailSerializer(GridListSerializer):
    responsible_people = serializers.SerializerMethodField()

    class Meta(GridListSerializer.Meta):
        fields = [*GridListSerializer.Meta.fields, "responsible_people", "boundary"]

    def get_responsible_people(self, grid) -> list[dict]:
        roles = self.context["roles"].get(grid.pk, [])
        return GridRoleSerializer(roles, many=True).data


class LocateQuerySerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)


class GridListQuerySerializer(serializers.Serializer):
    level = serializers.IntegerField(required=False, min_value=1, max_value=20)
    parent = serializers.RegexField(r"^\d{12,15}$", required=False)
    q = serializers.CharField(required=False, max_length=100)


class DepartmentSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    sector = serializers.CharField(source="sector.code")

    class Meta:
        model = Department
        fields = ["code", "name", "level", "grid", "sector"]
