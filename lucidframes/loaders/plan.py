"""Plans: what a load or a look-up will cost before it starts (requests, the limit that binds, wall-clock time).

A drain's plan asks for page 1 (one request: the count and the page size) unless the cache holds a fresh copy; a
look-up's plan sends nothing (the ids are counted, the cache and a checkpoint consulted). The time is a simulation
of the transport itself: ``workers`` at a time, each request taking the round trip measured so far (the plan's own
request measures it; ``DEFAULT_ROUND_TRIP`` before any), the client's sliding-window limiter of the endpoint's
bucket with the slots it already holds. A drain is page 1, then the other pages at once, then page 1 read again.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lucidframes import config
from lucidframes._http.transport import Transport
from lucidframes.endpoints import Endpoint
from lucidframes.loaders.cache import ResultCache
from lucidframes.loaders.fetch import check_page, pages_for
from lucidframes.loaders.lookup_state import LookupCheckpoint

__all__ = ["Plan", "estimate_seconds", "human_seconds", "plan_drain", "plan_lookup", "schedule"]


@dataclass(frozen=True)
class Plan:
    """What a load or look-up will cost; its repr is one line (``print(client.plan(...))``)."""

    endpoint: str
    kind: str  # "drain" or "lookup"
    items: int | None  # rows of the drain (its count), or distinct ids
    cached: int  # rows or ids the cache serves fresh (and ids a checkpoint already holds)
    requests: int
    seconds: float
    bucket: str
    limit: tuple[int, float] | None  # the client-side limit of that bucket, None when off
    workers: int
    round_trip: float  # the seconds per request the estimate assumed
    pages: int | None = None
    page_size: int | None = None

    @property
    def rate(self) -> str:
        """The binding limit as text: ``60/min``, ``20/10 s``, or ``no limit``."""
        if self.limit is None:
            return "no limit"
        n, window = self.limit
        return f"{n:,}/min" if window == 60 else f"{n:,}/{window:g} s"

    def __repr__(self) -> str:
        if self.kind == "lookup":
            what = f"{self.items or 0:,} look-ups"
        elif self.pages is not None and self.items is not None:
            what = f"{self.items:,} rows in {self.pages:,} page{'s' if self.pages != 1 else ''}"
        else:
            what = f"{self.items:,} rows" if self.items is not None else "one answer"
        return (
            f"{self.endpoint}: {what}, {self.cached:,} cached, {self.requests:,} request"
            f"{'s' if self.requests != 1 else ''} ≈ {human_seconds(self.seconds)} at {self.rate} ({self.bucket})"
        )


def human_seconds(seconds: float) -> str:
    """A duration as people say it: ``< 1 s``, ``45 s``, ``13 min``, ``2 h 5 min``."""
    if seconds < 1:
        return "< 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min"


def estimate_seconds(
    phases: Sequence[int],
    *,
    workers: int,
    round_trip: float,
    limit: tuple[int, float] | None,
    history: Iterable[float] = (),
    paused: float = 0.0,
    margin: float = 0.05,
) -> float:
    """Simulate the send loop: phases run one after the other, each with ``workers`` requests at a time.

    Args:
        phases: the requests of each phase (a drain: ``[1, pages - 1, 1]``; a look-up: ``[ids]``).
        workers: concurrent requests.
        round_trip: seconds from sending a request to its answer.
        limit: (requests, window seconds) of the bucket, None when the client does not limit it.
        history: the limiter's slots still in its window, as seconds from now (negative: past).
        paused: seconds every request is held back already (after a 429).
        margin: the limiter's margin added to each window.

    Returns:
        Seconds from now until the last answer.
    """
    slots = sorted(history)
    t = 0.0
    for n in phases:
        if n <= 0:
            continue
        free = [max(t, paused)] * min(max(1, workers), n)
        end = t
        for _ in range(n):
            start = heapq.heappop(free)
            if limit is not None and len(slots) >= limit[0]:
                start = max(start, slots[-limit[0]] + limit[1] + margin)
            done = start + round_trip
            bisect.insort(slots, done)  # the limiter settles a slot when its answer arrives
            if limit is not None and len(slots) > 2 * limit[0] + workers:
                del slots[: len(slots) - limit[0] - workers]
            heapq.heappush(free, done)
            end = max(end, done)
        t = end
    return t


def _estimate(transport: Transport, ep: Endpoint, phases: Sequence[int], workers: int) -> tuple[float, float]:
    """(seconds, the round trip assumed) for ``phases`` of requests on ``ep``'s bucket, from the live limiter."""
    limiter = transport.limiters.get(ep.bucket)
    round_trip = transport.round_trip or config.DEFAULT_ROUND_TRIP
    if limiter is None:
        seconds = estimate_seconds(phases, workers=workers, round_trip=round_trip, limit=None)
        return seconds, round_trip
    history, paused = limiter.snapshot()
    seconds = estimate_seconds(
        phases,
        workers=workers,
        round_trip=round_trip,
        limit=(limiter.limit, limiter.window),
        history=history,
        paused=paused,
        margin=limiter.margin,
    )
    return seconds, round_trip


def schedule(transport: Transport, ep: Endpoint, workers: int) -> Callable[[int], float] | None:
    """The seconds the rest of a run needs, from the live limiter of ``ep``'s bucket (None when it has none).

    The requests already given a slot (workers waiting for it) are in the limiter's window: they are not
    counted twice.

    Args:
        transport: the transport.
        ep: the endpoint the run fetches.
        workers: the run's workers.

    Returns:
        ``seconds(n)`` for ``n`` more requests, for a progress bar's rate and time left.
    """
    limiter = transport.limiters.get(ep.bucket)
    if limiter is None:
        return None

    def seconds(n: int) -> float:
        history, paused = limiter.snapshot()
        ahead = [t for t in history if t > 0]  # slots reserved by workers waiting for them
        round_trip = transport.round_trip or config.DEFAULT_ROUND_TRIP
        rest = estimate_seconds(
            [max(0, n - len(ahead))],
            workers=workers,
            round_trip=round_trip,
            limit=(limiter.limit, limiter.window),
            history=history,
            paused=paused,
            margin=limiter.margin,
        )
        return max(rest, max(ahead, default=0.0) + round_trip if ahead else 0.0)

    return seconds


def _limit(transport: Transport, ep: Endpoint) -> tuple[int, float] | None:
    limiter = transport.limiters.get(ep.bucket)
    return (limiter.limit, limiter.window) if limiter is not None else None


def plan_drain(
    transport: Transport,
    ep: Endpoint,
    params: dict[str, str],
    *,
    workers: int,
    cache: ResultCache | None = None,
    max_age: float | None = None,
) -> Plan:
    """The plan of ``load(ep, **params)``: page 1 fetched (one request) unless the cache holds a fresh drain.

    Args:
        transport: the transport.
        ep: a list endpoint.
        params: its checked parameters.
        workers: the load's workers.
        cache: the client's result cache.
        max_age: as the load would be given it.

    Returns:
        The Plan.
    """
    base = Plan(ep.name, "drain", None, 0, 0, 0.0, ep.bucket, _limit(transport, ep), workers, 0.0)
    if cache is not None and max_age is not None:
        entry = cache.get_drain(ep.product, ep.name, params, max_age)
        if entry is not None:
            n, pages = len(entry.records), len(entry.info.get("pages") or []) or None
            return replace(base, items=n, cached=n, pages=pages, page_size=entry.info.get("page_size"))
    if ep.list_shape != "paginated":
        seconds, rtt = _estimate(transport, ep, [1], workers)
        return replace(base, requests=1, seconds=seconds, round_trip=rtt)
    path = ep.format_path(ep.list_path or "", params)
    query = {k: params[k] for k in ep.query}
    payload = transport.send(
        "GET", path, product=ep.product, bucket=ep.bucket, params=query, check=check_page, endpoint=ep.name, page=1
    ).payload
    count, rows = payload.get("count"), payload["results"]
    size = len(rows) if payload.get("next") else max(len(rows), 1)
    pages = (pages_for(count, size) or 1) if payload.get("next") else 1
    phases = [1, pages - 1, 1] if pages > 1 else [1]  # page 1, the rest at once, page 1 read again
    seconds, rtt = _estimate(transport, ep, phases, workers)
    items = count if isinstance(count, int) else len(rows)
    return replace(
        base, items=items, requests=sum(phases), seconds=seconds, round_trip=rtt, pages=pages, page_size=size
    )


def plan_lookup(
    transport: Transport,
    ep: Endpoint,
    unique: list[str],
    params: dict[str, str],
    *,
    workers: int,
    cache: ResultCache | None = None,
    max_age: float | None = None,
    checkpoint: Path | None = None,
    scope: str = "",
) -> Plan:
    """The plan of ``lookup(ep, ids, **params)``: nothing is sent.

    Args:
        transport: the transport.
        ep: a detail endpoint.
        unique: the distinct ids, checked.
        params: its checked parameters.
        workers: the look-up's workers.
        cache: the client's result cache.
        max_age: as the look-up would be given it.
        checkpoint: as the look-up would be given it (ids it holds are not asked again).
        scope: the client's scope for the endpoint (a checkpoint of another scope is refused).

    Returns:
        The Plan.
    """
    done: set[str] = set()
    if cache is not None and max_age is not None:
        done |= set(cache.get_ids(ep.product, ep.name, params, unique, max_age))
    if checkpoint is not None:
        state = LookupCheckpoint(checkpoint, ep.name, params, scope).read()
        done |= set(state.rows) if state is not None else set()
    todo = sum(1 for i in unique if i not in done)
    seconds, rtt = _estimate(transport, ep, [todo], workers)
    if transport.round_trip is None and todo:
        seconds += rtt  # the token request comes first
    return Plan(
        ep.name,
        "lookup",
        len(unique),
        len(unique) - todo,
        todo,
        seconds,
        ep.bucket,
        _limit(transport, ep),
        workers,
        rtt,
    )
