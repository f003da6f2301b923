"""Thread-safe first calls: N threads on a fresh process decide at once and see no error."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys, threading
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: widen any race window
    from pia_policy import rules
    from pia_policy.models import Account
    from pia_policy.policy import Policy

    N = 16
    policy = Policy.load()   # the rule registry is still empty: the first denial loads it
    barrier = threading.Barrier(N)
    errors, answers = [], []

    def worker(i):
        try:
            barrier.wait()
            acct = Account(account_id=f"a{i}", system="fukushi", department="中央区健康課")
            d = policy.check_access(acct, "view", "kihon_joho", "gaikokujin_hogo", at="2025-06-01")
            answers.append(d.rule)
            answers.append(rules.get("TRANSFER_NOT_PERMITTED").id)
        except BaseException as exc:  # noqa: BLE001 - the test reports every error
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(len(errors), len(answers), sorted(set(answers)))
    for e in errors: print(e)
    sys.exit(1 if errors else 0)
""")


def test_concurrent_first_calls_on_a_fresh_process() -> None:
    for _ in range(3):  # a fresh interpreter each time: the registry starts empty
        out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.startswith("0 32 ['TRANSFER_NOT_PERMITTED']"), out.stdout


def test_registry_is_published_whole() -> None:
    from pia_policy import rules

    assert [r.id for r in rules.all_rules()] == list(rules.RULE_IDS)
