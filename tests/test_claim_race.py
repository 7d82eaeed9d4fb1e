"""Two operators press Claim at the same moment on two connections: exactly one wins."""

import threading

import pytest
from django.db import connection, connections

from calls import services
from calls.models import CaseEvent, EventKind

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "mysql", reason="row locks are proved on MariaDB (CI runs it)")
def test_exactly_one_concurrent_claim_wins(case_factory, operator, operator2):
    case = case_factory()
    for _ in range(5):  # several rounds: a race that passes once by luck should not pass five times
        barrier = threading.Barrier(2)
        results = {}

        def claim(user, barrier=barrier, results=results):
            try:
                barrier.wait()
                services.case_claim(case=case, operator=user)
                results[user.username] = "won"
            except services.CaseActionError:
                results[user.username] = "refused"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=claim, args=(u,)) for u in (operator, operator2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == ["refused", "won"]
        case.refresh_from_db()
        winner = next(name for name, r in results.items() if r == "won")
        assert case.claimed_by.username == winner
        services.case_release(case=case, user=case.claimed_by)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CLAIMED).count() == 5
