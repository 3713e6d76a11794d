"""The API in the language the client asks for: the collections' titles and descriptions and the problems'
details in Chinese for ``Accept-Language: zh-CN``, in English without it (the service in-process, over the
demo Eco-city in PostGIS)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.fast

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def test_collections_are_titled_in_chinese_when_asked(service) -> None:
    response = service.get("/collections", headers=CHINESE)
    assert response.headers["content-language"] == "zh-CN" and "accept-language" in response.headers["vary"].lower()
    listed = {entry["id"]: entry for entry in response.json()["collections"]}
    assert listed["water_supply"]["title"] == "给水管道"
    assert listed["utility_tunnels"]["title"] == "综合管廊"
    assert listed["base_stations_5g"]["title"] == "5G基站"
    assert "CJJ 61" in listed["gas"]["description"] and "燃气" in listed["gas"]["description"]
    one = service.get("/collections/buildings", headers=CHINESE).json()
    assert (one["title"], one["description"].startswith("建筑")) == ("建筑", True)


def test_collections_stay_english_without_a_language(service) -> None:
    listed = {entry["id"]: entry for entry in service.get("/collections").json()["collections"]}
    assert listed["water_supply"]["title"] == "Water supply pipes"
    assert service.get("/collections/buildings").json()["title"] == "Buildings"
    # A language twin does not speak is English too.
    assert service.get("/collections/buildings", headers={"Accept-Language": "fr-FR"}).json()["title"] == "Buildings"


@pytest.mark.parametrize(("path", "chinese", "english"), [
    ("/collections/nope/items", "没有集合“nope”；现有集合：", "no collection 'nope'; collections: "),
    ("/collections/buildings/items?datetime=2020/2010", "datetime: 时间区间“2020/2010”的起点晚于终点",
     "datetime: the interval '2020/2010' starts after it ends"),
    ("/collections/buildings/items?limit=many", "limit: “many”不是要素数量", "limit: 'many' is not a number"),
    ("/collections/buildings/items/not-a-uuid", "集合“buildings”中没有要素“not-a-uuid”",
     "no feature 'not-a-uuid' in collection 'buildings'"),
    ("/collections/buildings/tiles/WebMercatorQuad/99/0/0", "z: 99 不是 WebMercatorQuad 的缩放级别",
     "z: 99 is not a zoom level of WebMercatorQuad"),
    ("/collections/buildings/items?crs=EPSG:4548", "crs: 不提供“EPSG:4548”：要素仅以 CRS84",
     "crs: 'EPSG:4548' is not offered: items come in CRS84 only"),
    ("/collections/buildings/items?bbox=a,b,c,d", "bbox: “a,b,c,d”不是逗号分隔的数字",
     "bbox: 'a,b,c,d' is not comma-separated numbers"),
    # the analyses' own checks (twin.analyses.params), and what they find in the store
    ("/analyses/coverage-5g?year=2020/2018", "year: 区间“2020/2018”的起点晚于终点",
     "year: the interval '2020/2018' starts after it ends"),
    ("/analyses/nearest-resources?lon=0&lat=0", "lon: lon/lat 0.0,0.0 位于孪生范围（WGS84：",
     "lon: lon/lat 0.0,0.0 lies "),
    ("/analyses/burst-isolation?pipe=WA-nowhere", "pipe: 没有要素 ID 或源 ID 为“WA-nowhere”的给水管道",
     "pipe: no water_supply pipe has the feature id or source id 'WA-nowhere'"),
    ("/analyses/changes?from=2020&to=2015", "from: 2020 晚于 to（2015）", "from: 2020 is after to (2015)"),
    # FastAPI's type checks of the same parameters
    ("/analyses/hydrant-coverage?year=abc", "year: “abc”不是整数", "year: 'abc' is not a whole number"),
    ("/analyses/pipe-clearance?limit=0", "limit: 0 不大于或等于 1", "limit: 0 is not 1 or more"),
    ("/analyses/changes?from=2020", "to: 缺失；此参数为必填项", "to: missing; this parameter is required"),
    ("/collections/buildings/items?f=xyz", "f: “xyz”不是 'geojson', 'html'", "f: 'xyz' is not one of 'geojson', 'html'"),
    # TiPg's own messages, PostgreSQL's refusals and Starlette's 404, in twin's words
    ("/collections/buildings/items/00000000-0000-0000-0000-000000000000",
     "集合“buildings”中没有要素“00000000-0000-0000-0000-000000000000”",
     "no feature '00000000-0000-0000-0000-000000000000' in collection 'buildings'"),
    ("/collections/buildings/items?sortby=-nope", "sortby: “buildings”没有可排序的属性“nope”；可用属性：address,",
     "sortby: 'buildings' has no property 'nope' to sort by; properties: address,"),
    ("/collections/buildings/items?geom-column=nope", "geom-column: “nope”不是该集合的几何列",
     "geom-column: 'nope' is not a geometry column of the collection"),
    ("/collections/buildings/items?filter=height_m>'a'", "filter: 数据库拒绝了过滤条件中的值：invalid input",
     "filter: invalid input syntax for type double precision"),
    ("/nowhere", "API 中没有 /nowhere；可用路径见 /api.html", "the API has no /nowhere; its paths: /api.html"),
])
def test_problems_are_told_in_the_language_asked(service, path: str, chinese: str, english: str) -> None:
    told = service.get(path, headers=CHINESE)
    assert told.status_code in (400, 404) and told.headers["content-language"] == "zh-CN"
    assert told.json()["detail"].startswith(chinese), told.json()
    assert service.get(path).json()["detail"].startswith(english)
