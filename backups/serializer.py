"""Django's JSON serialiser, with times kept to the microsecond (format name ``fulljson``).

Django's own encoder cuts times to the millisecond (as JavaScript's Date does), so a round trip
through ``dumpdata``/``loaddata`` would move every timestamp by up to a millisecond: events written
in the same millisecond could change order, and a restore would not give back the rows as they were.
Reading needs nothing new: Django's deserialiser parses any precision.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.serializers import json as django_json
from django.core.serializers.json import Deserializer  # noqa: F401  (the format's reader)

FORMAT = "fulljson"


class Encoder(django_json.DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time) and o.microsecond:
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class Serializer(django_json.Serializer):
    def _init_options(self) -> None:
        super()._init_options()  # type: ignore[misc]  # not in django-stubs; Django 5.2 has it
        self.json_kwargs["cls"] = Encoder
