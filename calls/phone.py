"""Caller numbers: Indian numbers without a country code, international ones with it."""

import phonenumbers
from django.core.exceptions import ValidationError

DEFAULT_REGION = "IN"
# A call whose number the phone system did not give (a live stream that arrived unannounced).
UNKNOWN_CALLER = "unknown"


def normalise_caller_number(raw: str) -> str:
    """Return the E.164 form (+919876543210) or raise ValidationError with a clear message."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter the caller's number.")
    if text.lower() == UNKNOWN_CALLER:
        return UNKNOWN_CALLER
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{text}' is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"'{text}' is not a valid phone number. Indian numbers may omit +91; "
            "international numbers need their country code (e.g. +44 20 7946 0958)."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_caller_number(value: str) -> None:
    if normalise_caller_number(value) != value:
        raise ValidationError("Store caller numbers in E.164 form, e.g. +919876543210.")


def display_caller_number(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
