"""The API against its own OpenAPI schema, with schemathesis (property-based: examples, the schema's
edge cases, random fuzzing, and stateful sequences following Location links): no server errors, and
every response conforms to the schema (status, content type, headers, body).

The API is served by Daphne, as in production (not Django's WSGI live server: Twisted once answered a
malformed multipart body itself, with a bare 400, and only seed 4242 against Daphne showed it), and
under several seeds: one full run, then the random phases again under other seeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from .daphne_server import daphne_server

# Checks left out, and why: the schema cannot say everything a call must be to be accepted (a real
# Indian phone number, a case's state), so "schema-valid request rejected" is expected by design.
EXCLUDED_CHECKS = ["positive_data_acceptance"]


# (seed, phases, examples per operation, seconds at most): the first run covers every phase; the
# others draw other random requests (fuzzing, stateful sequences), 20 s each at most (CI has 2 cores).
RUNS = [
    (112, "examples,coverage,fuzzing,stateful", 12, 150),
    (4242, "fuzzing,stateful", 6, 20),
    (2026, "fuzzing,stateful", 6, 20),
]


@pytest.mark.slow
@pytest.mark.timeout(1500)  # three bounded schemathesis runs: 150 + 2 × 20 s of requests, each + 240 s at most
@pytest.mark.django_db(transaction=True)
def test_the_api_conforms_to_its_schema_under_schemathesis(admin_user, settings, case_factory, upload, tmp_path):
    settings.API_THROTTLE_RATES = {}  # schemathesis sends thousands of requests a minute
    case_factory(audio=upload("wav"))
    case_factory(caller_number="+919812345678")
    token = Token.objects.create(user=admin_user)
    failures = []
    with daphne_server() as url:  # forked after the settings above, so it has them too
        for seed, phases, examples, seconds in RUNS:
            command = [
                str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/api/v1/schema/",
                "--header", f"Authorization: Token {token.key}",
                "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
                "--phases", phases, "--max-examples", str(examples), "--seed", str(seed),
                "--workers", "1", "--max-time", str(seconds),
                "--report", "junit", "--report-dir", str(tmp_path / str(seed)),
            ]
            run = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 240)
            if run.returncode != 0 or "Tested: 15" not in run.stdout:
                failures.append(f"seed {seed} ({phases}):\n{run.stdout[-8000:]}{run.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)
