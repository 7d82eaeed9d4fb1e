import re
from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from .models import (
    Case,
    CaseEvent,
    CaseStatus,
    Language,
    Note,
    Outcome,
    PriorityBand,
    Recording,
    validate_received_at,
)
from .phone import normalise_caller_number

if TYPE_CHECKING:
    from accounts.models import User


class TextField(serializers.CharField):
    """Text, and only text: DRF's CharField turns a JSON number or true into a string silently; a
    client sending a number for a caller number or a reason has a bug worth telling it about."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The length as sent, before the surrounding spaces are trimmed: what the schema's maxLength says
        # (schemathesis found 5,001 characters with a leading space accepted).
        if self.max_length is not None and len(data) > self.max_length:
            raise serializers.ValidationError(f"Ensure this field has no more than {self.max_length} characters.",
                                              code="max_length")
        return super().to_internal_value(data)


class NullableIdField(serializers.IntegerField):
    """An id, or null. An empty form value is neither: DRF reads "" in a form as null, but the schema
    (integer or null) does not allow "", and schemathesis found it accepted; send null or leave it out."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, allow_null=True, **kwargs)

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def validate_empty_values(self, data):
        if data == "":
            self.fail("invalid")
        return super().validate_empty_values(data)


# The schema's examples and bounds, where drf-spectacular's own read "latitude": "-" (the shortest match of
# its decimal pattern) and size_bytes: 9223372036854776000 (a 64-bit bound, past what JavaScript holds).
JS_SAFE_MAX = 2**53 - 1  # the largest whole number every JSON reader (JavaScript's included) keeps exact


DEGREES = re.compile(r"^-?\d{1,3}(\.\d{1,6})?$")


def _degrees(limit: int, example: str, what: str) -> dict:
    return {"type": "string", "format": "decimal", "pattern": DEGREES.pattern, "example": example,
            "description": f"{what} in decimal degrees, -{limit} to {limit}, up to 6 decimals (WGS 84)."}


class _DegreesField(serializers.DecimalField):
    """Decimal degrees; a string must be written as the schema's pattern says (no "1e2", no ".5")."""

    limit = 90

    def __init__(self, **kwargs):
        super().__init__(max_digits=9, decimal_places=6, min_value=-self.limit, max_value=self.limit,
                         allow_null=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not DEGREES.match(data):
            raise serializers.ValidationError("Write the degrees as a decimal number, such as 28.613939.",
                                              code="invalid")
        return super().to_internal_value(data)


@extend_schema_field(_degrees(90, "28.613939", "Latitude"))
class LatitudeField(_DegreesField):
    limit = 90


@extend_schema_field(_degrees(180, "77.209021", "Longitude"))
class LongitudeField(_DegreesField):
    limit = 180


def _count(example: int, maximum: int, description: str) -> serializers.IntegerField:
    """A read-only whole number with a documented range and example (a field class of its own: the
    schema's mark goes on the class)."""
    schema = {"type": "integer", "minimum": 0, "maximum": maximum, "example": example, "description": description}
    field = extend_schema_field(schema)(type("Count", (serializers.IntegerField,), {}))
    return field(read_only=True)


class RecordingOut(serializers.ModelSerializer):
    size_bytes = _count(96_044, JS_SAFE_MAX, "Size of the file as uploaded, in bytes.")
    sample_rate = _count(16_000, 2**32 - 1, "Samples per second of the original, before resampling.")
    channels = _count(1, 2**16 - 1, "Channels of the original, before downmixing.")

    class Meta:
        model = Recording
        fields = ["id", "original_name", "source", "source_format", "size_bytes", "sha256",
                  "duration_s", "sample_rate", "channels", "created_at"]


class EventOut(serializers.ModelSerializer):
    actor: "serializers.StringRelatedField[User]" = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "reason", "data", "created_at"]


class NoteOut(serializers.ModelSerializer):
    author: "serializers.StringRelatedField[User]" = serializers.StringRelatedField()

    class Meta:
        model = Note
        fields = ["id", "author", "text", "created_at"]


class CaseOut(serializers.ModelSerializer):
    claimed_by: "serializers.StringRelatedField[User]" = serializers.StringRelatedField(allow_null=True)
    latitude = LatitudeField(read_only=True)
    longitude = LongitudeField(read_only=True)

    class Meta:
        model = Case
        fields = ["id", "caller_number", "received_at", "language", "location", "latitude", "longitude",
                  "status", "claimed_by", "outcome", "close_reason", "analysis_state", "analysis_error",
                  "priority_base", "priority_band", "priority_reasons", "priority_override",
                  "incident_type", "suspected_prank", "queue_key", "updated_at"]


class CaseDetailOut(CaseOut):
    recordings = RecordingOut(many=True, read_only=True)
    events = EventOut(many=True, read_only=True)
    notes = NoteOut(many=True, read_only=True)

    class Meta(CaseOut.Meta):
        fields = CaseOut.Meta.fields + ["recordings", "events", "notes"]


class CaseCreatedOut(CaseDetailOut):
    audio_error = serializers.SerializerMethodField(help_text="Why the audio was refused (the case is saved "
                                                    "all the same).")

    class Meta(CaseDetailOut.Meta):
        fields = CaseDetailOut.Meta.fields + ["audio_error"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_audio_error(self, case: Case) -> str | None:
        return self.context.get("audio_error")


class CaseIn(serializers.Serializer):
    caller_number = TextField(max_length=40)
    received_at = serializers.DateTimeField(required=False)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN_IN)
    location = TextField(max_length=500, required=False, allow_blank=True, default="")
    latitude = LatitudeField(required=False)
    longitude = LongitudeField(required=False)
    audio = serializers.FileField(required=False, allow_empty_file=True, help_text="wav, mp3, ogg, webm/opus, flac or m4a")

    def validate_received_at(self, value):
        from django.core.exceptions import ValidationError

        try:
            validate_received_at(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_caller_number(self, value):
        from django.core.exceptions import ValidationError

        try:
            return normalise_caller_number(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class CloseIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = TextField(max_length=2000)


class NoteIn(serializers.Serializer):
    text = TextField(max_length=5000)


class RecordingIn(serializers.Serializer):
    audio = serializers.FileField(allow_empty_file=True)


class QueueQuery(serializers.Serializer):
    """The queue's filters over the API: unknown values are refused, not ignored."""

    status = serializers.ChoiceField(choices=[("active", "open or claimed"), *CaseStatus.choices], default="active",
                                     help_text="active (open or claimed, the default), open, claimed or closed")
    band = serializers.ChoiceField(choices=PriorityBand.choices, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    incident_type = TextField(max_length=32, required=False)
    since = serializers.DateTimeField(required=False, help_text="Only cases changed at or after this time "
                                      "(poll with the latest updated_at you have seen).")
