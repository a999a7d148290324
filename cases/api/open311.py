"""Open311 GeoReport v2 for platforms that speak it, mapped onto the same cases.

Services are the problem categories; a service request is a case (channel ``platform``);
Open311's two statuses map onto the workflow: ``closed`` once verified, evaluated, assessed,
rejected or voided, ``open`` before. Errors use GeoReport's ``[{"code", "description"}]``.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors, services
from cases.models import Case

CLOSED = {"verified", "evaluated", "assessed", "rejected", "voided"}


def open311_status(case: Case) -> str:
    return "closed" if case.status in CLOSED else "open"


def _request_json(case: Case) -> dict:
    return {
        "service_request_id": str(case.pk),
        "status": open311_status(case),
        "status_notes": case.get_status_display(),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.department.name if case.department_id else "",
        "service_notice": case.number,
        "requested_datetime": case.reported_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.handling_deadline.isoformat() if case.handling_deadline else None,
        "address": case.address,
        "lat": case.lat,
        "long": case.lng,
    }


class Open311View(APIView):
    """GeoReport answers errors as a list of {code, description}."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response is not None and response.status_code >= 400:
            data = response.data
            if isinstance(data, dict):
                parts = []
                for key, value in data.items():
                    text = (
                        " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
                    )
                    parts.append(text if key == "detail" else f"{key}: {text}")
                data = [{"code": response.status_code, "description": "; ".join(parts)}]
            response.data = data
        return response


class ServicesApi(Open311View):
    @extend_schema(tags=["open311"], responses={200: None})
    def get(self, request):
        return Response(
            [
                {
                    "service_code": c.code,
                    "service_name": c.name,
                    "description": c.name_en,
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": _("Environment"),
                }
                for c in selectors.category_list()
            ]
        )


class RequestFilter(serializers.Serializer):
    service_request_id = serializers.CharField(required=False)
    service_code = serializers.CharField(required=False, max_length=30)
    start_date = serializers.DateTimeField(required=False)
    end_date = serializers.DateTimeField(required=False)
    status = serializers.ChoiceField(choices=["open", "closed"], required=False)


class RequestCreate(serializers.Serializer):
    service_code = serializers.CharField(max_length=30)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    long = serializers.FloatField(required=False, min_value=-180, max_value=180)
    address_string = serializers.CharField(max_length=300, required=False, allow_blank=True)
    address_id = serializers.CharField(max_length=15, required=False, allow_blank=True)
    description = serializers.CharField(max_length=4000)
    first_name = serializers.CharField(max_length=30, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=30, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    device_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class RequestsApi(Open311View):
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(tags=["open311"], parameters=[RequestFilter], responses={200: None})
    def get(self, request):
        query = RequestFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        qs = selectors.case_list(
            user=request.user,
            category=filters.get("service_code"),
            reported_after=filters.get("start_date"),
            reported_before=filters.get("end_date"),
        )
        if "service_request_id" in filters:
            ids = [p for p in filters["service_request_id"].split(",") if p.strip().isdigit()]
            qs = qs.filter(pk__in=ids)
        if filters.get("status") == "closed":
            qs = qs.filter(status__in=CLOSED)
        elif filters.get("status") == "open":
            qs = qs.exclude(status__in=CLOSED)
        return Response([_request_json(c) for c in qs.order_by("-reported_at", "-id")[:1000]])

    @extend_schema(tags=["open311"], request=RequestCreate, responses={201: None})
    def post(self, request):
        data = RequestCreate(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        name = f"{values.get('last_name', '')}{values.get('first_name', '')}".strip()
        case, _created = services.case_create(
            data=services.CaseInput(
                channel="platform",
                category=values["service_code"],
                description=values["description"],
                lat=values.get("lat"),
                lng=values.get("long"),
                address=values.get("address_string", ""),
                grid=values.get("address_id") or None,
                reporter_name=name,
                reporter_phone=values.get("phone", ""),
                external_id=values.get("device_id", "") and f"open311:{values['device_id']}",
            ),
            actor=request.user,
        )
        return Response(
            [
                {
                    "service_request_id": str(case.pk),
                    "service_notice": case.number,
                    "account_id": None,
                }
            ],
            status=status.HTTP_201_CREATED,
        )


class RequestDetailApi(Open311View):
    @extend_schema(tags=["open311"], responses={200: None})
    def get(self, request, pk: int):
        case = selectors.case_list(user=request.user).filter(pk=pk).first()
        if case is None:
            raise Http404
        return Response([_request_json(case)])
