"""The viewer in Chinese for a browser set to zh-CN (Playwright's locale: navigator.languages), English for
one that is not, and the footer's switch between them: the toolbar, the layer panel, the legend, a picked
feature's card and Vuetify's own strings. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from browser import ARTIFACTS, click_a_feature, features_mask, viewer_page
from support import ROOT

from twin.catalog import load_catalog

CATALOG = load_catalog(ROOT / "layers")


def _card(page, card: str = ".twin-picked") -> dict[str, str]:
    return dict(line.split("\t", 1) for line in page.inner_text(f"{card} tbody").splitlines() if "\t" in line)


def test_a_chinese_browser_reads_the_viewer_in_chinese(served) -> None:
    url, _ = served
    with viewer_page(url, size=(1600, 1000), locale="zh-CN") as page:
        page.wait_for_function("document.querySelector('.twin-modes').innerText.includes('查询')", timeout=20_000)
        assert [page.inner_text(f".twin-mode-{mode}").strip() for mode in ("inspect", "distance", "depth")] \
            == ["查询", "测距", "埋深"]
        assert "中新天津生态城（合成）" in page.inner_text("header") and page.title().startswith("中新天津生态城（合成）")
        assert "前往" in page.inner_text(".twin-viewpoints") and "查找要素或图层" in page.inner_text(".twin-search")
        assert page.inner_text(".twin-layer-water_supply").strip().startswith("给水管道 (")
        panel = page.inner_text(".twin-layers")
        for words in ("基础底图", "地下管线", "应急资源", "综合管廊", "5G基站", "消防栓", "燃气管道", "热力管道"):
            assert words in panel, words
        assert "Water supply pipes" not in panel
        assert "图例" in page.inner_text(".twin-legend") and "建筑" in page.inner_text(".twin-legend")
        assert "建筑面积" in page.inner_text(".twin-caption") and "给水管道" in page.inner_text(".twin-caption")
        assert page.inner_text(".twin-analyses-panel").strip() == "分析"
        page.click(".twin-viewpoints")
        page.wait_for_selector(".v-overlay .v-list-item:has-text('城市全景')", timeout=10_000)
        assert page.locator(".v-overlay .v-list-item:has-text('起步区')").count() == 1
        page.keyboard.press("Escape")
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        page.wait_for_selector(".twin-analysis-hint", timeout=10_000)
        assert "消防栓" in page.inner_text(".twin-analysis-hint") and "运行" in page.inner_text(".twin-analysis-run")
        page.screenshot(path=str(ARTIFACTS / "viewer-zh-CN-analyses.png"))
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        # Vuetify's own strings: the search box's clear button, once it has text.
        page.fill(".twin-search input", "zz")
        assert page.get_attribute(".twin-search .v-field__clearable [aria-label]", "aria-label") == "清除查找要素或图层"
        page.fill(".twin-search input", "")
        page.screenshot(path=str(ARTIFACTS / "viewer-zh-CN.png"))
        for layer in CATALOG.vector_layers:  # the point symbols hidden, a click hits a building (test_viewer)
            if layer.draw.mode == "glyph" and page.locator(f".twin-layer-{layer.id} input").is_checked():
                page.click(f".twin-layer-{layer.id} input")
                page.wait_for_function(f"!document.querySelector('.twin-legend').innerText"
                                       f".includes({layer.title_in('zh-CN')!r})", timeout=20_000)
        # The measuring tools say what to click, and measure, in Chinese.
        page.click(".twin-mode-height")
        page.wait_for_function("document.querySelector('.twin-measure') && "
                               "document.querySelector('.twin-measure').innerText.startsWith('测高：请点击一栋建筑')",
                               timeout=20_000)
        assert click_a_feature(page, features_mask(page, ["buildings"])[2], shows=".twin-measure tbody"), \
            "no click on the buildings measured one"
        measured = _card(page, ".twin-measure")
        assert page.inner_text(".twin-measure").startswith("建筑高度") and {"要素", "高度", "屋顶（高程）"} <= set(measured)
        page.click(".twin-mode-inspect")
        assert click_a_feature(page, features_mask(page, ["buildings"])[2]), "no click on the buildings picked one"
        assert page.inner_text(".twin-picked").startswith("建筑:")
        card = _card(page)
        assert {"来源编号", "高度", "层数", "要素编号"} <= set(card), card
        assert card["用途"] in {"住宅", "别墅", "办公", "商业", "学校", "医院", "公共建筑", "工业", "其他"}
        page.screenshot(path=str(ARTIFACTS / "viewer-zh-CN-picked.png"))
        # The buildings' colouring by use: its control, its choices and its legend.
        assert "着色" in page.inner_text(".twin-colour-by-buildings") and "单色" in page.inner_text(".twin-colour-by-buildings")
        page.click(".twin-colour-by-buildings")
        page.click(".v-overlay .v-list-item:has-text('按用途')")
        page.wait_for_function("document.querySelector('.twin-legend').innerText.includes('建筑 · 按用途')",
                               timeout=20_000)
        legend = page.inner_text(".twin-legend")
        assert "居住" in legend and "办公" in legend and "Housing" not in legend, legend
        page.screenshot(path=str(ARTIFACTS / "viewer-zh-CN-by-use.png"))
        # The footer's switch re-words the page, the card included.
        page.click(".twin-language-en")
        page.wait_for_function("document.querySelector('.twin-picked').innerText.startsWith('Buildings:')",
                               timeout=20_000)
        assert "Feature id" in _card(page) and page.text_content(".twin-mode-inspect").strip() == "Inspect"
        page.wait_for_function("document.querySelector('.twin-legend').innerText.includes('Buildings · By use')",
                               timeout=20_000)
        assert "Housing" in page.inner_text(".twin-legend") and "Plain" not in page.inner_text(".twin-legend")
        assert not [error for error in page.errors if "locale" in error.lower()], page.errors


def test_an_english_browser_reads_it_in_english(served) -> None:
    url, _ = served
    with viewer_page(url, locale="en-US") as page:  # at 1400 px the modes are icons, named by their tooltips
        assert page.get_attribute(".twin-mode-inspect", "title") == "Inspect"
        assert "Sino-Singapore Tianjin Eco-city (synthetic)" in page.inner_text("header")
        assert page.inner_text(".twin-layer-water_supply").strip().startswith("Water supply pipes (")
        page.fill(".twin-search input", "zz")
        assert page.get_attribute(".twin-search .v-field__clearable [aria-label]", "aria-label") \
            == "Clear Find a feature or layer"


def test_analyses_and_comparing_two_years_in_chinese(served) -> None:
    """The analyses' results and messages, compare mode's year labels and change panel, and the change
    analysis, read in Chinese."""
    url, _ = served
    with viewer_page(url, size=(1600, 1000), locale="zh-CN") as page:
        page.wait_for_function("document.querySelector('.twin-modes').innerText.includes('查询')", timeout=20_000)
        # An analysis's figures and list, and the panel's own message, in Chinese.
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        page.wait_for_selector(".twin-analysis-run", state="visible")
        page.click(".twin-analysis-run")  # hydrant coverage, the panel's first
        page.wait_for_function("document.querySelector('.twin-analysis') && document.querySelector('.twin-analysis')"
                               ".innerText.startsWith('2020 年消防栓覆盖')", timeout=60_000)
        figures = _card(page, ".twin-analysis")
        assert {"距消防栓超过 150 m 的建筑", "消防栓间距过大的路段", "间距超限路段长度"} <= set(figures), figures
        if figures["距消防栓超过 150 m 的建筑"] != "0" or figures["消防栓间距过大的路段"] != "0":
            entry = page.locator(".twin-analysis-item").first
            entry.wait_for(timeout=20_000)
            assert "距最近消防栓" in entry.text_content() or "路段无消防栓" in entry.text_content(), figures
        page.click(".twin-analysis-clear")
        page.click(".twin-analysis-choice")
        page.click(".v-overlay .v-list-item:has-text('最近应急资源')")
        page.click(".twin-analysis-run")
        page.wait_for_selector(".twin-analysis-message", timeout=20_000)
        assert page.inner_text(".twin-analysis-message").startswith("查询点：尚未选取")
        # A message on screen says itself again in the language switched to.
        page.click(".twin-language-en")
        page.wait_for_function("document.querySelector('.twin-analysis-message').innerText"
                               ".startsWith('point: none yet')", timeout=20_000)
        page.click(".twin-language-zh-CN")
        page.wait_for_function("document.querySelector('.twin-analysis-message').innerText"
                               ".startsWith('查询点：尚未选取')", timeout=20_000)
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        page.click(".twin-compare")
        page.click(".v-overlay .v-list-item:has-text('左右对比')")
        page.wait_for_selector(".twin-changes", timeout=20_000)
        assert page.inner_text(".twin-changes .v-card-title") == "2008 → 2020 年变化"
        assert page.inner_text(".twin-year-label-earlier").replace("\n", " ") == "2008 年份 B"
        assert page.inner_text(".twin-year-label-later").replace("\n", " ") == "2020 时间轴"
        assert page.get_attribute(".twin-swipe-handle", "aria-label") == "卷帘分割线：拖动，或使用方向键"
        rows = {line.split("\t")[0]: line.split("\t")[1:] for line in page.inner_text(".twin-changes tbody").splitlines()}
        assert rows["建筑"][0].startswith("+") and "建筑面积" in rows["建筑"][0], rows
        assert rows["给水管道"][0].endswith(" km）"), rows
        page.screenshot(path=str(ARTIFACTS / "viewer-zh-CN-compare.png"))
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        page.wait_for_selector(".twin-analysis-choice", state="visible")
        page.click(".twin-analysis-choice")
        page.click(".v-overlay .v-list-item:has-text('两个年份之间的变化')")
        page.click(".twin-analysis-run")
        page.wait_for_function("document.querySelector('.twin-analysis') && document.querySelector('.twin-analysis')"
                               ".innerText.startsWith('2008 → 2020 年变化')", timeout=60_000)
        figures = _card(page, ".twin-analysis")
        assert {"新增（蓝色）", "消失（橙红色）", "变更（紫色）", "有变化的图层"} <= set(figures), figures
        assert "新增 " in page.inner_text(".twin-analysis-found"), page.inner_text(".twin-analysis-found")
        assert "新增 2008 → 2020" in page.inner_text(".twin-legend")
        # The switch re-words what the server wrote: the panel and the analysis.
        page.click(".twin-language-en")
        page.wait_for_function("document.querySelector('.twin-changes .v-card-title').innerText"
                               " === 'Changes 2008 → 2020'", timeout=20_000)
        page.wait_for_function("document.querySelector('.twin-analysis').innerText.startsWith('Changes 2008')",
                               timeout=20_000)
        assert "Appeared (blue)" in _card(page, ".twin-analysis")
