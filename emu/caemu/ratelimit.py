"""The rate-limited mode: token buckets on requests, input tokens and
output tokens per minute, as the API enforces them, with the real
anthropic-ratelimit-* headers and 429 bodies, and a spend limit.

Config (POST /_emu/config): {"ratelimit": {"rpm": N, "itpm": N,
"otpm": N, "burst_s": S, "spend_after": N}}, any subset; null turns it
off.  Each bucket holds at most burst_s seconds of its rate (default
60: a full minute) and starts full; it refills continuously.  A
/v1/messages request that finds the request bucket empty, or fewer
input tokens left than it brings (len(body)/4, as count_tokens
answers), is answered 429 rate_limit_error with retry-after.  Output
tokens are charged after the answer (the API counts them as they are
made); an empty output bucket refuses the next request likewise.
After spend_after accepted requests, every request is answered 429
with error_code enforced_spend_limit_reached and no retry-after.
"""

import math
import threading
import time

from .errors import APIError
from .wire import rfc3339

KEYS = ("rpm", "itpm", "otpm", "burst_s", "spend_after")
KINDS = (("requests", "rpm"), ("input-tokens", "itpm"),
         ("output-tokens", "otpm"))


def validate(v):
    """The config value, checked: a dict of known keys, or None."""
    if v is None:
        return None
    if not isinstance(v, dict):
        raise APIError(400, "config: ratelimit must be an object or null")
    for k, n in v.items():
        if k not in KEYS:
            raise APIError(400, f"config: ratelimit: unknown key {k!r}")
        if not isinstance(n, (int, float)) or isinstance(n, bool) or n < 0:
            raise APIError(400, f"config: ratelimit.{k} must be a number >= 0")
    return dict(v)


class Bucket:
    def __init__(self, per_min, burst_s):
        self.limit = per_min
        self.rate = per_min / 60.0
        self.cap = max(1.0, self.rate * burst_s)
        self.level = self.cap
        self.t = time.time()

    def refill(self, now):
        self.level = min(self.cap, self.level + (now - self.t) * self.rate)
        self.t = now

    def wait(self, n):
        """Seconds until n are there (0: now)."""
        if self.level >= n:
            return 0.0
        return (min(n, self.cap) - self.level) / self.rate

    def reset(self, now):
        return rfc3339(math.ceil(now + (self.cap - self.level) / self.rate))


class RateLimit:
    def __init__(self, cfg):
        burst = float(cfg.get("burst_s", 60) or 60)
        self.lock = threading.Lock()
        self.b = {}
        for kind, key in KINDS:
            if cfg.get(key):
                self.b[kind] = Bucket(float(cfg[key]), burst)
        sa = cfg.get("spend_after")
        self.spend_left = int(sa) if sa is not None else None

    def admit(self, in_tokens):
        """Charge a request, or raise the 429 the API would answer."""
        with self.lock:
            now = time.time()
            if self.spend_left is not None:
                if self.spend_left <= 0:
                    raise APIError(429, "You have reached your API usage limits. "
                                   "You will regain access on the first of next "
                                   "month at 00:00 UTC.",
                                   code="enforced_spend_limit_reached")
                self.spend_left -= 1
            need = {"requests": 1, "input-tokens": in_tokens,
                    "output-tokens": 1}
            worst, what = 0.0, None
            for kind, b in self.b.items():
                b.refill(now)
                w = b.wait(need[kind])
                if w > worst:
                    worst, what = w, kind
            if what is not None:
                if self.spend_left is not None:
                    self.spend_left += 1
                raise APIError(429, "This request would exceed the rate limit "
                               f"for your organization of {self.b[what].limit:g} "
                               f"{what.replace('-', ' ')} per minute.",
                               headers=dict(self.headers_locked(now),
                                            **{"retry-after": str(max(1, math.ceil(worst)))}))
            for kind, b in self.b.items():
                if kind != "output-tokens":
                    b.level -= need[kind]

    def charge_output(self, n):
        b = self.b.get("output-tokens")
        if b is not None:
            with self.lock:
                b.refill(time.time())
                b.level -= n

    def headers_locked(self, now):
        h = {}
        for kind, b in self.b.items():
            b.refill(now)
            h[f"anthropic-ratelimit-{kind}-limit"] = f"{b.limit:g}"
            h[f"anthropic-ratelimit-{kind}-remaining"] = str(max(0, int(b.level)))
            h[f"anthropic-ratelimit-{kind}-reset"] = b.reset(now)
        return h

    def headers(self):
        with self.lock:
            return self.headers_locked(time.time())
