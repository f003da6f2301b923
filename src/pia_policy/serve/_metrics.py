"""Counters and a latency histogram, rendered in the Prometheus text format (version 0.0.4)."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

__all__ = ["Metrics", "BUCKETS"]

#: Request duration buckets in seconds.
BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    body = ",".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs)
    return "{" + body + "}"


class Metrics:
    """Thread-safe counters (by label set) and one histogram of request durations per path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.decisions: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._hist: dict[str, list[int]] = {}
        self._sum: dict[str, float] = defaultdict(float)

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(("path", path), ("status", str(status)))] += 1
            counts = self._hist.setdefault(path, [0] * (len(BUCKETS) + 1))
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._sum[path] += seconds

    def count_decisions(self, check: str, allowed: int, denied: int) -> None:
        with self._lock:
            if allowed:
                self.decisions[(("check", check), ("allowed", "true"))] += allowed
            if denied:
                self.decisions[(("check", check), ("allowed", "false"))] += denied

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The exposition text; ``gauges`` adds ``name: (help, value)`` lines."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP pia_policy_http_requests_total HTTP requests by path and status.",
                    "# TYPE pia_policy_http_requests_total counter"]
            out += [f"pia_policy_http_requests_total{_labels(k)} {v}" for k, v in sorted(self.requests.items())]
            out += ["# HELP pia_policy_decisions_total Decisions answered, by check and result.",
                    "# TYPE pia_policy_decisions_total counter"]
            out += [f"pia_policy_decisions_total{_labels(k)} {v}" for k, v in sorted(self.decisions.items())]
            out += ["# HELP pia_policy_http_request_duration_seconds Time to answer a request.",
                    "# TYPE pia_policy_http_request_duration_seconds histogram"]
            for path, counts in sorted(self._hist.items()):
                running = 0
                for bound, n in zip((*BUCKETS, float("inf")), counts):
                    running += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    out.append(f"pia_policy_http_request_duration_seconds_bucket"
                               f"{_labels((('path', path), ('le', le)))} {running}")
                out.append(f"pia_policy_http_request_duration_seconds_sum{_labels((('path', path),))} "
                           f"{self._sum[path]:.6f}")
                out.append(f"pia_policy_http_request_duration_seconds_count{_labels((('path', path),))} {running}")
        for name, (help_text, value) in gauges.items():
            kind = "counter" if name.endswith("_total") else "gauge"
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {float(value)!r}"]
        return "\n".join(out) + "\n"
