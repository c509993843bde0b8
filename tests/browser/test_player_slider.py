"""The player's progress bar is one slider (issue 17, item 3): one tab stop with a name
and a value text from the catalog, arrows / Home / End / PageUp / PageDown on it, a
press or a drag on the bar going to the frame under the pointer, and a play button
whose aria-pressed and name follow playing. The page-wide keys (arrows, space) keep
working and leave a focused field's keys alone.

The learning-rate lab plays a long run (Home / End work anywhere there); the pooling
page has the shared Player as every other walkthrough uses it.
"""

from __future__ import annotations

from app.i18n import t
from tests.browser.test_axe import settled

LAB = "/learn/learning-rate?surface=bowl&steps=100"
SLIDER = ".player [role=slider]"


def value(pg: object) -> int:
    return int(pg.get_attribute(SLIDER, "aria-valuenow"))


def at(pg: object, frame: int) -> None:
    """The player has shown `frame` (0-based), and the slider says so."""
    settled(pg, frame)
    assert value(pg) == frame + 1


def test_slider_keys_name_and_value_text(page, server):
    pg, _ = page
    pg.goto(server + LAB)
    pg.wait_for_selector("#view[data-ready]")
    settled(pg)
    slider = pg.locator(SLIDER)
    n = int(slider.get_attribute("aria-valuemax"))
    assert n > 30 and slider.get_attribute("aria-valuemin") == "0"  # 0: not started
    assert slider.get_attribute("aria-label") == t("player.slider")
    titles = pg.locator(".player .seg").evaluate_all("segs => segs.map((s) => s.title)")
    assert len(titles) == n

    slider.focus()
    slider.press("Home")
    at(pg, 0)
    text = t("player.valuetext").format(k=1, n=n, label=titles[0])
    assert slider.get_attribute("aria-valuetext") == text
    assert titles[0] in pg.text_content(".player .frame-label")
    # one frame per arrow: the page-wide arrow keys do not step a second time
    slider.press("ArrowRight")
    at(pg, 1)
    slider.press("ArrowUp")
    at(pg, 2)
    slider.press("ArrowDown")
    at(pg, 1)
    slider.press("ArrowLeft")
    at(pg, 0)
    slider.press("ArrowLeft")  # stays on the first
    at(pg, 0)
    page_step = max(10, round(n / 10))
    slider.press("PageUp")
    at(pg, page_step)
    slider.press("PageUp")
    at(pg, 2 * page_step)
    slider.press("PageDown")
    at(pg, page_step)
    slider.press("End")
    at(pg, n - 1)
    assert slider.get_attribute("aria-valuetext") == t("player.valuetext").format(
        k=n, n=n, label=titles[-1]
    )
    slider.press("PageUp")  # stays on the last
    at(pg, n - 1)

    # the page-wide keys still work with the focus elsewhere, but not in a field
    pg.locator("h1").click()
    pg.keyboard.press("Home")
    at(pg, 0)
    pg.keyboard.press("ArrowRight")
    at(pg, 1)
    speed = pg.locator(".player [data-act=speed]")
    before = speed.input_value()
    speed.focus()
    speed.press("ArrowRight")
    assert speed.input_value() == str(int(before) + 1)
    speed.press("End")
    at(pg, 1)


def test_one_tab_stop_for_the_whole_bar(page, server):
    pg, _ = page
    pg.goto(server + "/learn/pooling")
    pg.wait_for_selector("#view[data-ready]")
    settled(pg)
    assert pg.locator(".player .progress").count() == 1
    assert pg.locator(".player .seg").count() >= 2
    inside = ".player .progress button, .player .progress [tabindex], .player .progress a"
    assert pg.locator(inside).count() == 0
    assert pg.get_attribute(SLIDER, "tabindex") == "0"
    pg.focus(".player [data-act=speed]")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.getAttribute('role')") == "slider"
    pg.keyboard.press("Tab")
    assert not pg.evaluate("Boolean(document.activeElement.closest('.progress'))")
    pg.keyboard.press("Shift+Tab")
    assert pg.evaluate("document.activeElement.getAttribute('role')") == "slider"
    # the frame label is read out as the player moves; the view as a whole is not
    assert pg.get_attribute(".player .frame-label", "aria-live") == "polite"
    assert pg.get_attribute("#view", "aria-live") is None


def test_press_and_drag_on_the_bar_go_to_that_frame(page, server):
    pg, _ = page
    pg.goto(server + LAB)
    pg.wait_for_selector("#view[data-ready]")
    settled(pg)
    segs = pg.locator(".player .seg")
    n = segs.count()
    segs.nth(n // 4).click()
    at(pg, n // 4)
    assert pg.locator(".player .seg.current").count() == 1
    assert pg.evaluate("document.activeElement.getAttribute('role')") == "slider"
    start, end = segs.nth(5).bounding_box(), segs.nth(n - 6).bounding_box()
    y = start["y"] + start["height"] / 2
    pg.mouse.move(start["x"] + start["width"] / 2, y)
    pg.mouse.down()
    pg.mouse.move(end["x"] + end["width"] / 2, y, steps=8)
    pg.mouse.up()
    at(pg, n - 6)
    assert pg.locator(".player .seg.done").count() == n - 6


def test_play_button_is_a_toggle_pressed_while_playing_and_its_tooltip_says_what_next(page, server):
    pg, _ = page
    pg.goto(server + LAB + "&lang=zh-CN")
    pg.wait_for_selector("#view[data-ready]")
    settled(pg)
    play = pg.locator(".player [data-act=play]")
    assert play.get_attribute("aria-pressed") == "false"
    assert play.get_attribute("aria-label") == t("player.play", "zh-CN")
    assert t("player.key_space", "zh-CN") in play.get_attribute("title")
    assert pg.get_attribute(SLIDER, "aria-label") == t("player.slider", "zh-CN")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    assert play.get_attribute("aria-label") == t("player.play", "zh-CN")  # a toggle's name stays
    assert play.get_attribute("title").startswith(t("player.pause", "zh-CN"))
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
    assert play.get_attribute("aria-label") == t("player.play", "zh-CN")


def test_from_not_started_the_first_key_shows_the_first_frame(page, server):
    """The CNN page opens before its first step (frame -1): the slider says "not
    started" (value 0), and ArrowRight on it shows step 1, not step 2."""
    pg, _ = page
    pg.goto(server + "/learn/cnn")
    pg.wait_for_selector("#view[data-ready]")
    settled(pg, -1)
    slider = pg.locator(SLIDER)
    n = int(slider.get_attribute("aria-valuemax"))
    assert value(pg) == 0
    assert slider.get_attribute("aria-valuetext") == t("player.not_started").format(n=n)
    slider.focus()
    slider.press("ArrowRight")
    at(pg, 0)
    assert pg.locator(".player .seg.current").count() == 1
    assert pg.locator(".player .seg.done").count() == 0
