from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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


class RecordingOut(serializers.ModelSerializer):
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
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                        min_value=-90, max_value=90)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                         min_value=-180, max_value=180)
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
