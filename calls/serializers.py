from typing import TYPE_CHECKING

from rest_framework import serializers

from .models import Case, CaseEvent, Language, Note, Outcome, Recording
from .phone import normalise_caller_number

if TYPE_CHECKING:
    from accounts.models import User


class RecordingOut(serializers.ModelSerializer):
    class Meta:
        model = Recording
        fields = ["id", "original_name", "source", "source_format", "size_bytes", "sha256",
                  "duration_s", "sample_rate", "channels", "created_at"]


class EventOut(serializers.ModelSerializer):
    actor: "serializers.StringRelatedField[User]" = serializers.StringRelatedField()

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "reason", "data", "created_at"]


class NoteOut(serializers.ModelSerializer):
    author: "serializers.StringRelatedField[User]" = serializers.StringRelatedField()

    class Meta:
        model = Note
        fields = ["id", "author", "text", "created_at"]


class CaseOut(serializers.ModelSerializer):
    claimed_by: "serializers.StringRelatedField[User]" = serializers.StringRelatedField()

    class Meta:
        model = Case
        fields = ["id", "caller_number", "received_at", "language", "location", "latitude", "longitude",
                  "status", "claimed_by", "outcome", "close_reason", "analysis_state", "analysis_error",
                  "priority_base", "priority_band", "priority_reasons", "priority_override",
                  "incident_type", "suspected_prank", "queue_key"]


class CaseDetailOut(CaseOut):
    recordings = RecordingOut(many=True, read_only=True)
    events = EventOut(many=True, read_only=True)
    notes = NoteOut(many=True, read_only=True)

    class Meta(CaseOut.Meta):
        fields = CaseOut.Meta.fields + ["recordings", "events", "notes"]


class CaseIn(serializers.Serializer):
    caller_number = serializers.CharField(max_length=40)
    received_at = serializers.DateTimeField(required=False)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN_IN)
    location = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                        min_value=-90, max_value=90)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                         min_value=-180, max_value=180)
    audio = serializers.FileField(required=False, allow_empty_file=True, help_text="wav, mp3, ogg, webm/opus, flac or m4a")

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
    reason = serializers.CharField(max_length=2000)


class NoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class RecordingIn(serializers.Serializer):
    audio = serializers.FileField(allow_empty_file=True)
