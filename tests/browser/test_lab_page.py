"""The learning-rate lab in a real browser: the lecture's cases on loss surfaces."""

import httpx
import pytest

from tests.browser.conftest import screenshot

LAB = "/learn/learning-rate"


def _runs_done(pg, n):
    """Wait until the page has finished its n-th descent request and drawn it."""
    pg.wait_for_function(f"() => document.querySelector('#view').dataset.run === '{n}'")


def _rows(pg):
    return pg.eval_on_selector_all(".lab-row", "rows => rows.map(r => ({...r.dataset}))")


def _frame(pg):
    return int(pg.get_attribute("#view", "data-frame"))


@pytest.mark.parametrize(
    "query", ["", "?lang=zh-CN", "?surface=rosenbrock", "?surface=local-minima"]
)
def test_lab_loads_with_no_errors_and_nothing_from_outside(page, server, query):
    pg, _ = page
    pg.goto(server + LAB + query)
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_load_state("networkidle")
    assert pg.locator("canvas.contour").count() == 1
    assert pg.locator("canvas.line-chart").count() == 1
    assert float(pg.get_attribute("#view", "data-render-ms")) >= 0
    name = "lab" + query.replace("?", "-").replace("=", "-")
    screenshot(pg, name)


def test_home_page_links_to_the_lab(page, server):
    pg, _ = page
    pg.goto(server + "/")
    pg.locator("a[data-topic-link='learning-rate']").click()
    pg.wait_for_selector("#view[data-ready]")
    assert pg.url.split("?")[0].endswith(LAB)


def test_bowl_lecture_cases_slow_converged_oscillating_diverged(page, server):
    pg, _ = page
    pg.goto(server + LAB + "?surface=bowl&start=3_1&runs=s0.01&steps=50")
    _runs_done(pg, 1)
    assert [r["outcome"] for r in _rows(pg)] != ["slow", "converged", "oscillating", "diverged"]
    pg.get_by_role("button", name="Lecture cases").click()
    _runs_done(pg, 2)
    rows = _rows(pg)
    assert [r["outcome"] for r in rows] == ["slow", "converged", "oscillating", "diverged"]
    assert [r["case"] for r in rows] == ["too-small", "good", "too-large", "too-large"]
    body = {
        "surface": "bowl",
        "start": [-4.5, 2],
        "steps": 100,
        "runs": [{"optimizer": "sgd", "lr": lr} for lr in (0.001, 0.05, 0.099, 0.11)],
    }
    api = httpx.post(server + "/api/lab/descent", json=body).json()["paths"]
    k = api[3]["diverged_at"]
    assert rows[3]["diverged"] == "1" and rows[3]["divergedAt"] == str(k)
    assert all(r["diverged"] == "0" for r in rows[:3])
    # The diverged path stops at its last finite point, one step before it blew up;
    # the others run all 100 steps.
    assert rows[3]["stepsRun"] == str(k - 1) == str(len(api[3]["points"]) - 1)
    assert [r["stepsRun"] for r in rows[:3]] == ["100"] * 3
    assert _frame(pg) == 100 and rows[3]["step"] == str(k - 1)
    flag = pg.locator(".lab-row[data-run='3'] .lab-flag.diverged").text_content()
    assert f"step {k}" in flag
    for i, row in enumerate(rows):  # the caption is the API's text
        caption = pg.locator(f".lab-row[data-run='{i}'] .lab-outcome").text_content()
        assert caption == api[i]["text"]["en"]
        assert float(row["loss"]) == pytest.approx(api[i]["losses"][-1], rel=1e-12)
    screenshot(pg, "lab-bowl-lecture-cases")


def test_player_steps_show_the_api_numbers_of_each_step(page, server):
    pg, _ = page
    pg.goto(server + LAB)
    pg.wait_for_selector("#view[data-ready]")
    body = {
        "surface": "bowl",
        "start": [-4.5, 2],
        "steps": 100,
        "runs": [{"optimizer": "sgd", "lr": lr} for lr in (0.001, 0.05, 0.099, 0.11)],
    }
    api = httpx.post(server + "/api/lab/descent", json=body).json()["paths"]
    pg.locator("h1").click()
    pg.keyboard.press("Home")
    pg.wait_for_function("() => document.querySelector('#view').dataset.frame === '0'")
    for i in range(1, 4):
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"() => document.querySelector('#view').dataset.frame === '{i}'")
    for p, row in zip(api, _rows(pg), strict=True):
        assert float(row["loss"]) == pytest.approx(p["losses"][3], rel=1e-12)
        assert float(row["gradNorm"]) == pytest.approx(p["grad_norms"][3], rel=1e-12)
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_function("() => document.querySelector('#view').dataset.frame === '2'")
    pg.keyboard.press(" ")  # play, then pause
    pg.wait_for_function("() => Number(document.querySelector('#view').dataset.frame) > 2")
    pg.keyboard.press(" ")
    screenshot(pg, "lab-bowl-playing")


def test_saddle_start_on_the_axis_stalls_at_the_saddle_point(page, server):
    pg, _ = page
    pg.goto(server + LAB)
    _runs_done(pg, 1)
    pg.select_option("select[data-field='surface']", "saddle")
    _runs_done(pg, 2)
    assert pg.input_value("input[data-field='start-x']") == "1"
    assert pg.input_value("input[data-field='start-y']") == "0"
    assert pg.input_value(".lab-runs tr[data-run='0'] select") == "sgd"
    row = _rows(pg)[0]
    assert row["outcome"] == "saddle" and row["case"] == "saddle"
    assert float(row["gradNorm"]) < 1e-3  # the gradient vanishes at the end ...
    shown = pg.locator(".lab-row[data-run='0'] .lab-now").text_content()
    assert "gradient norm" in shown
    info = httpx.get(server + "/api/lab/surfaces/saddle?resolution=8").json()
    # ... yet the point is not a minimum: it is the surface's saddle point, and the
    # surface has no minimum at all.
    assert [float(v) for v in row["endedNear"].split(",")] in [s["point"] for s in info["saddles"]]
    assert info["minima"] == []
    screenshot(pg, "lab-saddle-stalls")


def test_clicking_the_plot_sets_the_start_and_a_start_off_the_axis_escapes(page, server):
    pg, _ = page
    pg.goto(server + LAB + "?surface=saddle")
    _runs_done(pg, 1)
    box = pg.locator("canvas.contour").bounding_box()
    # The plot area spans x in [-2, 2] and y in [-2, 2] inside the canvas margins
    # (left 46, right 14, top 12, bottom 36 CSS pixels).
    pw, ph = box["width"] - 60, box["height"] - 48

    def click(px, py):
        x = 46 + (px + 2) / 4 * pw
        y = 12 + (1 - (py + 2) / 4) * ph
        pg.locator("canvas.contour").click(position={"x": x, "y": y})

    # Just off the axis: the path comes near the saddle point, then leaves it downhill.
    click(1, 0.05)
    _runs_done(pg, 2)
    assert float(pg.input_value("input[data-field='start-x']")) == pytest.approx(1, abs=0.02)
    assert float(pg.input_value("input[data-field='start-y']")) == pytest.approx(0.05, abs=0.02)
    assert "start=" in pg.url
    assert [r["outcome"] for r in _rows(pg)][0] == "escaped"
    # Far off it: the path never comes near the saddle point, it just runs downhill.
    click(1, 0.5)
    _runs_done(pg, 3)
    assert float(pg.input_value("input[data-field='start-y']")) == pytest.approx(0.5, abs=0.02)
    assert [r["outcome"] for r in _rows(pg)][0] == "runaway"
    screenshot(pg, "lab-saddle-escapes")


def test_the_url_reproduces_the_lab_setup(page, server):
    pg, _ = page
    pg.goto(server + LAB)
    _runs_done(pg, 1)
    pg.select_option("select[data-field='surface']", "local-minima")
    _runs_done(pg, 2)
    lr = ".lab-runs tr[data-run='0'] input[data-field='lr']"
    pg.fill(lr, "0.3")
    pg.dispatch_event(lr, "change")
    _runs_done(pg, 3)
    pg.get_by_role("button", name="Add run").click()
    _runs_done(pg, 4)
    pg.select_option(".lab-runs tr[data-run='3'] select", "momentum")
    _runs_done(pg, 5)
    pg.fill("input[data-field='steps']", "150")
    pg.dispatch_event("input[data-field='steps']", "change")
    _runs_done(pg, 6)
    pg.locator("h1").click()
    for _ in range(40):
        pg.keyboard.press("ArrowLeft")
    pg.wait_for_function("() => document.querySelector('#view').dataset.frame === '110'")
    pg.wait_for_function("() => location.search.includes('frame=110')")
    url = pg.url
    assert "surface=local-minima" in url and "runs=" in url and "steps=150" in url
    before = _rows(pg)
    inputs = pg.eval_on_selector_all(
        ".lab-side input, .lab-side select", "xs => xs.map(x => x.value)"
    )
    pg.goto(url)
    pg.wait_for_selector("#view[data-ready]")
    assert _frame(pg) == 110
    assert _rows(pg) == before
    after = pg.eval_on_selector_all(
        ".lab-side input, .lab-side select", "xs => xs.map(x => x.value)"
    )
    assert after == inputs
    assert len(before) == 4 and pg.input_value("select[data-field='surface']") == "local-minima"


def test_zh_cn_shows_chinese_captions_and_keeps_the_setup(page, server):
    pg, _ = page
    pg.goto(server + LAB + "?surface=bowl&steps=100")
    _runs_done(pg, 1)
    assert "too small" in pg.locator(".lab-row[data-run='0'] .lab-outcome").text_content()
    pg.locator("a[hreflang='zh-CN']").click()
    pg.wait_for_selector("#view[data-ready]")
    assert pg.get_attribute("html", "lang") == "zh-CN"
    assert "surface=bowl" not in pg.url and "steps=100" in pg.url  # bowl is the default
    assert "学习率太小" in pg.locator(".lab-row[data-run='0'] .lab-outcome").text_content()
    assert "发散" in pg.locator(".lab-row[data-run='3'] .lab-outcome").text_content()
    assert "情形 1" in pg.locator(".lab-row[data-run='0'] .lab-case").text_content()
    assert "第 72 步发散" in pg.locator(".lab-row[data-run='3'] .lab-flag").text_content()
    assert pg.locator("h1").text_content() == "学习率"
    screenshot(pg, "lab-zh-CN")


def test_lab_fits_a_phone_screen(page, server):
    pg, _ = page
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.goto(server + LAB + "?surface=local-minima")
    pg.wait_for_selector("#view[data-ready]")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    box = pg.locator("canvas.contour").bounding_box()
    assert box["width"] <= 390
    screenshot(pg, "lab-phone")


def test_bowl_at_lr_0_105_shows_that_it_diverges(page, server):
    """Issue 12 item 4: the loss goes from 50 to 7.6e9 in 100 steps (no coordinate
    passes the bound), which the page used to call "oscillates without converging"."""
    pg, _ = page
    pg.goto(server + LAB + "?surface=bowl&runs=s0.105&steps=100")
    _runs_done(pg, 1)
    row = _rows(pg)[0]
    assert row["outcome"] == "diverged" and row["case"] == "too-large"
    assert row["diverged"] == "0" and row["stepsRun"] == "100"  # all 100 steps are finite
    assert float(row["loss"]) > 1e9
    caption = pg.locator(".lab-row[data-run='0'] .lab-outcome").text_content()
    assert caption.startswith("Diverges") and "oscillat" not in caption.lower()
    assert pg.locator(".lab-row[data-run='0'] .lab-case").text_content() == (
        "Case 2: learning rate too large"
    )
    flag = pg.locator(".lab-row[data-run='0'] .lab-flag.diverged").text_content()
    assert "loss grew from" in flag and "in 100 steps" in flag
    screenshot(pg, "lab-bowl-0.105-diverges")
    pg.locator("a[hreflang='zh-CN']").click()
    pg.wait_for_selector("#view[data-ready]")
    _runs_done(pg, 1)
    assert "发散" in pg.locator(".lab-row[data-run='0'] .lab-outcome").text_content()
    assert "情形 2" in pg.locator(".lab-row[data-run='0'] .lab-case").text_content()


def test_monkey_saddle_lecture_cases_name_the_saddle_point_not_a_too_small_rate(page, server):
    """SGD 0.05 from (1, 0) creeps along the ridge towards the saddle point (the
    surface has no minimum); momentum and Adam run past it and on downhill."""
    pg, _ = page
    pg.goto(server + LAB + "?surface=monkey-saddle")
    _runs_done(pg, 1)
    rows = _rows(pg)
    assert [r["outcome"] for r in rows] == ["toward-saddle", "escaped", "escaped"]
    assert [r["case"] for r in rows] == ["saddle", "unbounded", "unbounded"]
    head = pg.locator(".lab-row[data-run='0'] .lab-case").text_content()
    caption = pg.locator(".lab-row[data-run='0'] .lab-outcome").text_content()
    assert head == "Case 4: saddle point" and "saddle point" in caption
    assert "too small" not in head + caption and "minimum" not in head
    screenshot(pg, "lab-monkey-saddle")


def test_the_lab_page_asks_no_rules_request_and_takes_the_lecture_runs_from_the_api(page, server):
    """The descent rules are injected with the page (rules.lab): its start asks only
    for the surfaces and the descent; the lecture's runs come from GET /api/lab/surfaces.
    (GLASSBOX_LIMIT_MAX_LAB_STEPS capping the steps: tests/browser/test_rules_from_server.py.)"""
    pg, _ = page
    asked = []
    pg.on("request", lambda req: asked.append(req.url.split("?")[0].removeprefix(server)))
    pg.goto(server + LAB + "?surface=rosenbrock")
    _runs_done(pg, 1)
    api = [u for u in asked if u.startswith("/api/")]
    assert "/api/lab/rules" not in api
    surfaces = ["/api/lab/surfaces", "/api/lab/surfaces/rosenbrock"]
    assert sorted(set(api)) == ["/api/lab/descent", *surfaces]
    lecture = next(
        s["lecture"]
        for s in httpx.get(server + "/api/lab/surfaces").json()
        if s["name"] == "rosenbrock"
    )
    lrs = pg.eval_on_selector_all(
        ".lab-runs input[data-field='lr']", "xs => xs.map(x => Number(x.value))"
    )
    assert lrs == [r["lr"] for r in lecture["runs"]]
