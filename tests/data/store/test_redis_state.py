"""Realtime state: the in-process state and Redis pass the same tests (see conftest.py).

``realtime.make(**options)`` builds a state under a prefix unique to the test;
``realtime.advance(s)`` lets ``s`` seconds pass (a fake clock in-process, real time in Redis).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shopmind.data.store.redis_state import (
    InMemoryRealtimeState,
    RedisRealtimeState,
    SessionEvent,
    open_realtime_state,
)
from shopmind.errors import ConfigError, InputError, StoreError

T = datetime(2024, 6, 1, 8, 30, 0, 123456, tzinfo=UTC)


def test_recent_events_come_back_oldest_first_and_capped(realtime: Any) -> None:
    state = realtime.make(max_session_events=3)
    for i in range(5):
        state.append_event("s1", "u1", f"i{i}", "view", T + timedelta(seconds=i))
    got = state.recent_events("s1", "u1")
    assert [e.item_id for e in got] == ["i2", "i3", "i4"]
    assert got[-1] == SessionEvent("i4", "view", T + timedelta(seconds=4))
    assert [e.item_id for e in state.recent_events("s1", "u1", n=2)] == ["i3", "i4"]
    assert state.recent_events("s1", "u1", n=0) == []
    assert state.recent_events("s1", "nobody") == []


def test_event_times_keep_microseconds_and_become_utc(realtime: Any) -> None:
    state = realtime.make()
    shanghai = T.astimezone(timezone(timedelta(hours=8)))
    state.append_event("s1", "u1", "商品-1", "purchase", shanghai)
    state.append_event("s1", "u1", "i2", "cart")  # now
    first, second = state.recent_events("s1", "u1")
    assert first == SessionEvent("商品-1", "purchase", T)
    assert first.ts.tzinfo == UTC
    assert abs(second.ts - datetime.now(UTC)) < timedelta(seconds=5)


def test_bad_events_are_input_errors(realtime: Any) -> None:
    state = realtime.make()
    with pytest.raises(InputError, match=r"event_type must be one of .*got 'like'"):
        state.append_event("s1", "u1", "i1", "like")
    with pytest.raises(InputError, match="timezone-aware"):
        state.append_event("s1", "u1", "i1", "view", datetime(2024, 1, 1))
    with pytest.raises(InputError, match="shop_id"):
        state.append_event("", "u1", "i1", "view")


def test_sessions_expire_after_their_ttl_and_each_event_renews_it(realtime: Any) -> None:
    # generous margins: Redis runs on real time, and CI machines stall now and then
    state = realtime.make(session_ttl_s=1.0)
    state.append_event("s1", "u1", "i1", "view", T)
    realtime.advance(0.6)
    state.append_event("s1", "u1", "i2", "view", T)  # renews the session's TTL
    realtime.advance(0.6)
    assert [e.item_id for e in state.recent_events("s1", "u1")] == ["i1", "i2"]
    realtime.advance(0.6)
    assert state.recent_events("s1", "u1") == []


def test_clear_session_forgets_one_user(realtime: Any) -> None:
    state = realtime.make()
    state.append_event("s1", "u1", "i1", "view", T)
    state.append_event("s1", "u2", "i1", "view", T)
    state.clear_session("s1", "u1")
    assert state.recent_events("s1", "u1") == []
    assert len(state.recent_events("s1", "u2")) == 1


def test_mark_event_seen_is_true_only_the_first_time(realtime: Any) -> None:
    state = realtime.make(seen_ttl_s=0.5)
    assert state.mark_event_seen("s1", "evt-1") is True
    assert state.mark_event_seen("s1", "evt-1") is False
    assert state.mark_event_seen("s1", "evt-2") is True
    assert state.mark_event_seen("s2", "evt-1") is True  # another shop
    realtime.advance(0.6)
    assert state.mark_event_seen("s1", "evt-1") is True  # forgotten after the TTL


def test_cache_set_get_delete_and_expiry(realtime: Any) -> None:
    state = realtime.make()
    assert state.cache_get("s1", "recs:u1") is None
    state.cache_set("s1", "recs:u1", b'{"items": [1, 2]}', ttl_s=0.5)
    state.cache_set("s1", "greeting", "你好", ttl_s=60)
    assert state.cache_get("s1", "recs:u1") == b'{"items": [1, 2]}'
    assert state.cache_get("s1", "greeting") == "你好".encode()
    state.cache_set("s1", "greeting", b"hi", ttl_s=60)  # overwrite
    assert state.cache_get("s1", "greeting") == b"hi"
    state.cache_delete("s1", "greeting")
    state.cache_delete("s1", "never-set")
    assert state.cache_get("s1", "greeting") is None
    realtime.advance(0.6)
    assert state.cache_get("s1", "recs:u1") is None
    with pytest.raises(ConfigError, match="ttl_s must be > 0"):
        state.cache_set("s1", "x", b"1", ttl_s=0)


def test_shops_never_see_each_others_state(realtime: Any) -> None:
    state = realtime.make()
    # ids that would collide if the key parts were joined without escaping
    a, b = "a:session:x", "a"
    state.append_event(a, "u", "item-of-a", "view", T)
    state.append_event(b, "x:session:u", "item-of-b", "view", T)
    assert [e.item_id for e in state.recent_events(a, "u")] == ["item-of-a"]
    assert [e.item_id for e in state.recent_events(b, "x:session:u")] == ["item-of-b"]
    state.cache_set(a, "k", b"A", ttl_s=60)
    assert state.cache_get(b, "k") is None
    assert state.mark_event_seen(a, "e1") and state.mark_event_seen(b, "e1")

    assert state.clear_shop(a) == 3  # session, cache entry, seen id
    assert state.recent_events(a, "u") == [] and state.cache_get(a, "k") is None
    assert [e.item_id for e in state.recent_events(b, "x:session:u")] == ["item-of-b"]
    assert state.mark_event_seen(b, "e1") is False


def test_states_with_different_prefixes_are_apart(realtime: Any) -> None:
    one, two = realtime.make(), realtime.make(prefix=f"{realtime.prefix}-other")
    one.cache_set("s1", "k", b"1", ttl_s=60)
    assert two.cache_get("s1", "k") is None
    two.clear_shop("s1")
    assert one.cache_get("s1", "k") == b"1"


def test_keys_are_namespaced_by_prefix_and_shop(realtime: Any) -> None:
    state = realtime.make()
    assert state.key("shop 1", "session", "u:1") == f"{realtime.prefix}:shop%201:session:u%3A1"
    if realtime.client is not None:
        state.append_event("shop 1", "u:1", "i1", "view", T)
        state.cache_set("shop 1", "k", b"v", ttl_s=60)
        keys = sorted(k.decode() for k in realtime.client.scan_iter(match=f"{realtime.prefix}:*"))
        assert keys == [f"{realtime.prefix}:shop%201:cache:k",
                        f"{realtime.prefix}:shop%201:session:u%3A1"]
        assert 0 < realtime.client.pttl(keys[1]) <= state.session_ttl_s * 1000


def test_invalid_options_are_config_errors(realtime: Any) -> None:
    for options in ({"max_session_events": 0}, {"session_ttl_s": -1}, {"seen_ttl_s": 0},
                    {"prefix": ""}):
        with pytest.raises(ConfigError):
            realtime.make(**options)


def test_open_realtime_state_picks_the_backend() -> None:
    assert isinstance(open_realtime_state(None), InMemoryRealtimeState)
    assert isinstance(open_realtime_state("memory://"), InMemoryRealtimeState)
    with open_realtime_state("redis://127.0.0.1:6379/0") as state:
        assert isinstance(state, RedisRealtimeState)
    with pytest.raises(ConfigError, match="unknown realtime state URL 'mongo://x'"):
        open_realtime_state("mongo://x")


def test_unreachable_redis_is_a_store_error() -> None:
    state = RedisRealtimeState("redis://127.0.0.1:1/0")
    with pytest.raises(StoreError, match=r"Redis at redis://127\.0\.0\.1:1/0: ping failed"):
        state.ping()
    with pytest.raises(StoreError, match="setting a key failed"):
        state.mark_event_seen("s1", "e1")
