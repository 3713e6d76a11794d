"""The viewer's replay keeps the wall clock's time (viewer.panels.years.ReplayClock): at 1 year a second,
slow frames drop moments instead of slowing the years down."""

from __future__ import annotations

import pytest

from viewer.panels.years import ReplayClock

pytestmark = pytest.mark.fast


def test_slow_frames_drop_moments_and_keep_time() -> None:
    clock = ReplayClock(first=2007.0, last=2020.0, loop=False, t=2007.0, at=100.0)
    # frames that each take 0.6 s: at 1 year/s the replay is 0.6 years further at each, not 1/8 of a year
    moments = [clock.next(1.0, 100.0 + 0.6 * step) for step in range(1, 6)]
    assert moments == pytest.approx([2007.6, 2008.2, 2008.8, 2009.4, 2010.0])
    assert clock.next(4.0, 103.5) == pytest.approx(2012.0)  # the speed changed: from where it was
    assert clock.next(1.0, 200.0) is None  # past the last year, not looping: the end


def test_a_looping_replay_starts_again() -> None:
    clock = ReplayClock(first=2007.0, last=2020.0, loop=True, t=2019.5, at=0.0)
    assert clock.next(1.0, 1.0) == 2007.0
    assert clock.next(2.0, 1.5) == pytest.approx(2008.0)
