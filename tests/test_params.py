"""Parameters, checked without a service: the analyses' (twin.analyses.params: years, boxes, places,
counts, feature ids) and the OGC API's datetime read as the days it covers (twin.service.params). What
each refusal says through the service is tested in test_analyses.py and test_service.py."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import HTTPException

from twin.analyses import params
from twin.errors import ParameterError
from twin.service.params import Span, check_ids, instant, span

pytestmark = pytest.mark.fast


def test_years_and_intervals_of_years() -> None:
    this = date.today().year
    assert params.year(None) == this and params.year(2020) == 2020
    assert params.years(None) == (this, this) and params.years(" ") == (this, this)
    assert params.years("2020") == (2020, 2020) and params.years("2018/2020") == (2018, 2020)
    assert params.years("1821/2020") == (1821, 2020)  # 200 years: the most at once
    for text, message in (("1820/2020", "spans more than 200 years"), ("2020/2018", "starts after it ends"),
                          ("2018/2019/2020", r"is not a year \(2020\) or an interval"), ("0/2020", "0 is not a year")):
        with pytest.raises(ParameterError, match=message):
            params.years(text)


def test_boxes_are_wgs84_and_may_carry_heights() -> None:
    assert params.bbox(None) is None and params.bbox("") is None
    assert params.bbox("117.7,39.1,117.8,39.2") == (117.7, 39.1, 117.8, 39.2)
    assert params.bbox("117.7,39.1,-5,117.8,39.2,30") == (117.7, 39.1, 117.8, 39.2)  # heights ignored
    assert params.bbox("117.7,39.1,117.7,39.2") == (117.7, 39.1, 117.7, 39.2)  # along one meridian
    for text, message in (("117.7,39.1,nan,39.2", "must be 4 \\(or 6\\) finite numbers"),
                          ("117.7,39.1,117.8,91", "lies outside -180..180"),
                          ("117.7,39.1,117.8", "must be 4 \\(or 6\\)")):
        with pytest.raises(ParameterError, match=f"^bbox: .*{message}"):
            params.bbox(text)


def test_a_place_is_one_pair_of_coordinates() -> None:
    assert params.place(117.75, 39.14, None, None) == params.Place(117.75, 39.14, wgs84=True)
    assert params.place(None, None, 562_900.0, 4_333_200.0) == params.Place(562_900.0, 4_333_200.0, wgs84=False)
    with pytest.raises(ParameterError, match="^y: missing; x/y go together"):
        params.place(None, None, 1.0, None)
    with pytest.raises(ParameterError, match="^lat: nan is not a finite number"):
        params.place(117.0, float("nan"), None, None)


def test_counts_and_feature_ids() -> None:
    assert params.count(20, "n", 20) == 20
    with pytest.raises(ParameterError, match="^n: 21 is not from 1 to 20"):
        params.count(21, "n", 20)
    assert params.feature_ref(" 93A60D12-5DCA-90B2-E10B-D1C255EC2946 ", "pipe") == "93a60d12-5dca-90b2-e10b-d1c255ec2946"
    assert params.feature_ref(" WA-h008-000 ", "pipe") == "WA-h008-000"  # a source id, as the viewer shows it
    for wrong in (" ", "x" * 201):
        with pytest.raises(ParameterError, match="^pipe: '.*' is not a feature id .* or a source id"):
            params.feature_ref(wrong, "pipe")


def test_a_datetime_is_the_days_it_covers() -> None:
    assert span("2015") == Span(date(2015, 12, 31), date(2015, 12, 31))  # a year: as the city stood at its end
    assert span("2015-06-01") == Span(date(2015, 6, 1), date(2015, 6, 1))
    assert span("2015-06-01T10:30:00Z") == Span(date(2015, 6, 1), date(2015, 6, 1))
    assert span("2010-01-01/..") == Span(date(2010, 1, 1), date.max)
    assert span("../2015") == Span(date.min, date(2015, 12, 31))
    assert instant("2015") == date(2015, 12, 31)
    for bad in ("../..", "2020/2010", "2015/2016/2017", "20x5"):
        with pytest.raises(HTTPException) as refused:
            span(bad)
        assert refused.value.status_code == 400 and refused.value.detail.startswith("datetime: ")
    with pytest.raises(HTTPException, match="is an interval"):
        instant("2010/2015")
    check_ids("93a60d12-5dca-90b2-e10b-d1c255ec2946,00000000-0000-0000-0000-000000000000")
    with pytest.raises(HTTPException) as refused:
        check_ids("93a60d12-5dca-90b2-e10b-d1c255ec2946,7")
    assert refused.value.detail == "ids: '7' is not a feature id (feature ids are UUIDs)"
