import pytest
from django.core.exceptions import ValidationError

from calls.phone import normalise_caller_number


@pytest.mark.parametrize(
    "raw, e164",
    [
        ("98765 43210", "+919876543210"),
        ("+91-98765-43210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("011 2345 6789", "+911123456789"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_indian_and_international_numbers(raw, e164):
    assert normalise_caller_number(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "call me", "+91 12345", "+999 1234567"])
def test_bad_numbers_are_refused_with_a_message(raw):
    with pytest.raises(ValidationError) as info:
        normalise_caller_number(raw)
    assert info.value.messages[0]
