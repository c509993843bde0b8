"""The live class in two real browsers (issue 18, items 1, 2 and 4 on the page side): a
teacher starts a class on a page with a player, a student opens the join link and
follows (three steps), explores, rejoins, follows a change of the page's settings
(the page reloads to the same query), is held by the lock, and sees the class end;
in English, and a shorter walk in Chinese. A bad code on the home page gets the
server's 404 message in the page's language. axe checks the teacher's panel and the
student's bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from app.i18n import t
from tests.browser.conftest import PageWatch, watched_page
from tests.browser.test_axe import AXE, AXE_PATH, serious_violations

FRAME = "() => document.querySelector('.player')?.dataset.frame"


def assert_clean(watch: PageWatch) -> None:
    """The watch's checks; but a page that reloads to follow the teacher, or closes its
    stream at the end, ends its event stream: an aborted request, not a failed one."""
    watch.failed[:] = [u for u in watch.failed if "/events?" not in u]
    watch.assert_clean()


@contextmanager
def two_pages(browser: object, server: str, **student: object) -> Iterator[tuple[object, object]]:
    """A teacher's page and a student's, each in its own context (its own
    sessionStorage), with axe routed onto the app's origin; both must stay clean."""
    source = AXE.read_text(encoding="utf-8")
    watches: list[PageWatch] = []
    with ExitStack() as stack:
        pages = []
        for options in ({}, student):
            pg, watch = stack.enter_context(watched_page(browser, server, **options))
            pg.route(
                server + AXE_PATH, lambda r: r.fulfill(body=source, content_type="text/javascript")
            )
            pages.append(pg)
            watches.append(watch)
        yield pages[0], pages[1]
        for watch in watches:
            assert_clean(watch)


def frame(pg: object) -> int:
    pg.wait_for_selector(".player[data-frame]:not([data-busy])", state="attached")
    return int(pg.evaluate(FRAME))


def same_frame(student: object, want: int) -> None:
    """The student's page shows frame `want` (it follows over SSE)."""
    student.wait_for_function(
        "(want) => { const p = document.querySelector('.player');"
        " return p && !p.hasAttribute('data-busy') && p.dataset.frame === String(want); }",
        arg=want,
    )


def start_class(teacher: object, server: str, path: str) -> str:
    """Open `path` as the teacher, start a class; the join link."""
    teacher.goto(server + path)
    teacher.wait_for_selector("#view[data-ready]")
    teacher.locator(".class-start").click()
    teacher.wait_for_selector(".class-panel .class-code")
    link = teacher.locator(".class-link").get_attribute("href")
    assert link and "/join/" in link
    # The teacher token is in this tab's storage only, never in the page or a link.
    token = teacher.evaluate("() => JSON.parse(sessionStorage['glassbox.class.teacher']).token")
    assert token not in teacher.content() and token not in teacher.url
    return link


def step(pg: object) -> int:
    before = frame(pg)
    pg.locator(".player [data-act=step]").click()
    pg.wait_for_function(
        "(b) => { const p = document.querySelector('.player');"
        " return !p.hasAttribute('data-busy') && p.dataset.frame !== String(b); }",
        arg=before,
    )
    return frame(pg)


def seen(pg: object, want: int) -> None:
    """The page's class has received a state with the teacher on frame `want`."""
    pg.evaluate(
        """async (want) => {
          const { onClassState } = await import(new URL('/static/js/classroom.js', location).href);
          await new Promise((done) => onClassState((s) => s.view?.frame === want && done()));
        }""",
        want,
    )


def no_sideways_scroll(pg: object) -> None:
    assert pg.evaluate("() => document.documentElement.scrollWidth <= innerWidth + 1")


def test_a_student_follows_explores_rejoins_and_sees_the_end(browser, server):
    lang = "en"
    with two_pages(browser, server) as (teacher, student):
        link = start_class(teacher, server, f"/learn/convolution?lang={lang}")
        code = urlparse(link).path.rsplit("/", 1)[1]
        spoken = teacher.locator(".class-code .visually-hidden").inner_text()
        assert spoken == f"{t('classroom.code', lang)}: {' '.join(code)}"
        assert teacher.locator(".class-qr").get_attribute("alt") == t(
            "classroom.qr_alt", lang
        ).replace("{url}", link)

        student.goto(link)  # the server redirects to the teacher's page with ?class=
        student.wait_for_selector(".class-bar")
        assert parse_qs(urlparse(student.url).query)["class"] == [code]
        status = student.locator(".class-status")
        assert status.inner_text() == t("classroom.following", lang)
        same_frame(student, frame(teacher))
        teacher.wait_for_selector(".class-tally[data-following='1']")

        for _ in range(3):  # the student's page follows each step
            same_frame(student, step(teacher))

        for pg in (teacher, student):  # axe: the teacher's panel and the student's bar
            found = serious_violations(pg, server)
            assert not found, "\n".join(found)

        # Explore: the student steps on their own; the teacher's steps leave them be.
        student.locator(".class-toggle").click()
        assert status.inner_text() == t("classroom.exploring", lang)
        assert student.locator(".class-toggle").inner_text() == t("classroom.rejoin", lang)
        student.locator(".player [data-act=back]").click()
        student.locator(".player [data-act=back]").click()
        own = frame(student)
        teacher.wait_for_selector(".class-tally[data-exploring='1']")
        at = step(teacher)
        seen(student, at)  # the student's page got the teacher's step, and stayed
        assert frame(student) == own != at
        # Rejoin: at once on the teacher's frame.
        student.locator(".class-toggle").click()
        same_frame(student, frame(teacher))
        assert status.inner_text() == t("classroom.following", lang)

        # A step of the student's own while following: they explore by themselves.
        student.keyboard.press("ArrowLeft")
        student.wait_for_selector(".class-bar[data-mode='explore']")
        student.locator(".class-toggle").click()
        same_frame(student, frame(teacher))

        # The teacher changes a setting: the student's page reloads to the same query
        # (and deletes the session it leaves: a class that moves on holds no orphans).
        left = student.locator("#view").get_attribute("data-session-id")
        size = teacher.locator("input[data-key=k]")
        size.fill("2")
        size.press("Enter")
        teacher.wait_for_function("() => new URLSearchParams(location.search).get('k') === '2'")
        teacher.wait_for_selector("#view[data-ready] .player[data-frame]:not([data-busy])")
        student.wait_for_function("() => new URLSearchParams(location.search).get('k') === '2'")
        student.wait_for_selector("#view[data-ready]")
        same_frame(student, frame(teacher))
        assert student.locator("input[data-key=k]").input_value() == "2"
        assert student.locator(".class-bar[data-mode='follow']").count() == 1
        assert student.locator("#view").get_attribute("data-session-id") != left
        assert httpx.get(f"{server}/api/sessions/{left}").status_code == 404

        # A setting of the student's own: they explore; rejoining reloads to the teacher's.
        pad = student.locator("input[data-key=p]")
        sid = student.locator("#view").get_attribute("data-session-id")
        pad.fill("1")
        pad.press("Enter")
        student.wait_for_selector(".class-bar[data-mode='explore']")
        student.wait_for_function("() => new URLSearchParams(location.search).get('p') === '1'")
        student.wait_for_function(  # its new run has drawn (a reload would abort it)
            "(sid) => document.getElementById('view').dataset.sessionId !== sid", arg=sid
        )
        frame(student)
        student.locator(".class-toggle").click()
        student.wait_for_function("() => !new URLSearchParams(location.search).has('p')")
        student.wait_for_selector("#view[data-ready]")
        student.wait_for_selector(".class-bar[data-mode='follow']")
        same_frame(student, frame(teacher))
        assert student.locator("input[data-key=k]").input_value() == "2"

        # Lock: explore is off (and says why); a step of the student's snaps back.
        teacher.locator(".class-lock").click()
        teacher.wait_for_selector(".class-lock[aria-pressed='true']")
        toggle = student.locator(".class-toggle")
        student.wait_for_function("() => document.querySelector('.class-toggle').disabled")
        assert student.locator(".class-lock-note").inner_text() == t("classroom.locked", lang)
        assert toggle.get_attribute("aria-describedby") == "class-lock-note"
        found = serious_violations(student, server)  # the bar, locked
        assert not found, "\n".join(found)
        want = frame(teacher)
        student.keyboard.press("ArrowRight")
        same_frame(student, want)
        assert student.locator(".class-bar[data-mode='follow']").count() == 1

        for pg in (teacher, student):
            no_sideways_scroll(pg)
        # End (the teacher confirms): the student is told; the page stays usable.
        teacher.once("dialog", lambda d: d.accept())
        teacher.locator(".class-end").click()
        teacher.wait_for_selector(".class-notice")
        student.wait_for_selector(".class-notice")
        assert student.locator(".class-notice").inner_text() == t("classroom.ended", lang)
        assert student.locator(".class-bar").count() == 0
        assert frame(student) != step(student)  # still steps on its own


def test_the_class_in_chinese_and_in_present_mode(browser, server):
    lang = "zh-CN"
    phone = {"viewport": {"width": 390, "height": 844}, "locale": lang}  # Accept-Language
    with two_pages(browser, server, **phone) as (teacher, student):
        teacher.set_viewport_size({"width": 1024, "height": 768})
        link = start_class(teacher, server, f"/learn/pooling?lang={lang}")
        assert teacher.locator(".class-start").count() == 0
        assert teacher.locator(".class-panel h2").inner_text() == t("classroom.title", lang)
        student.goto(link)
        student.wait_for_selector(".class-bar")
        assert student.evaluate("() => document.documentElement.lang") == lang
        assert student.locator(".class-status").inner_text() == t("classroom.following", lang)
        assert student.locator(".class-toggle").inner_text() == t("classroom.explore", lang)
        same_frame(student, step(teacher))
        teacher.set_viewport_size({"width": 390, "height": 844})  # the panel on a phone
        no_sideways_scroll(teacher)
        teacher.set_viewport_size({"width": 1024, "height": 768})
        # Present mode (the teacher's key P): the student's page follows into it; the
        # teacher's panel stays, compact, with the code.
        teacher.keyboard.press("p")
        teacher.wait_for_selector("html.present .class-panel .class-code")
        student.wait_for_selector("html.present .class-bar")
        same_frame(student, frame(teacher))
        assert teacher.locator(".class-code").bounding_box()["height"] >= 30
        for pg in (teacher, student):
            no_sideways_scroll(pg)
        teacher.once("dialog", lambda d: d.accept())
        teacher.locator(".class-end").click()
        student.wait_for_selector(".class-notice")
        assert student.locator(".class-notice").inner_text() == t("classroom.ended", lang)


@pytest.mark.console_errors_expected("404")
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_bad_code_on_the_home_page_gets_the_servers_message(page, server, lang):
    pg, _ = page
    r = httpx.get(f"{server}/api/classes/ZZZZZZ")
    assert r.status_code == 404
    pg.goto(f"{server}/?lang={lang}")
    pg.locator(".class-join-form input[name=code]").fill("zzz-zzz")  # case and dashes are fine
    pg.locator(".class-join-form button[type=submit]").click()
    status = pg.locator(".class-join-status")
    pg.wait_for_function(
        "() => document.querySelector('.class-join-status').dataset.code === 'class_not_found'"
    )
    assert status.inner_text() == r.json()["message"][lang]


def test_a_student_joins_on_the_home_page_and_waits_for_the_teacher(browser, server):
    """The home page's form (a code typed in lower case with a dash, a nickname) joins a
    class that has no page yet; the student waits, then lands on the teacher's page, at
    the teacher's frame, with the teacher's cell open."""
    with watched_page(browser, server) as (pg, watch):
        walk_from_the_home_page(pg, server)
        assert_clean(watch)


def walk_from_the_home_page(pg: object, server: str) -> None:
    made = httpx.post(f"{server}/api/classes", json={})
    assert made.status_code == 201
    cls = made.json()
    code, auth = cls["code"], {"Authorization": f"Bearer {cls['teacher_token']}"}
    pg.goto(f"{server}/?lang=en")
    pg.locator(".class-join-form input[name=code]").fill(f"{code[:3].lower()}-{code[3:].lower()}")
    pg.locator(".class-join-form input[name=nickname]").fill("Ada")
    pg.locator(".class-join-form button[type=submit]").click()
    pg.wait_for_function(
        "(text) => document.querySelector('.class-join-status').textContent === text",
        arg=t("classroom.waiting", "en"),
    )
    tally = httpx.get(f"{server}/api/classes/{code}/tally", headers=auth).json()
    assert tally["joined"] == 1
    cell = {"tensor": "pool1.out", "index": [0, 0, 0, 0]}
    view = {"page": "pooling", "query": "kind=avg", "frame": 2, "cell": cell, "present": False}
    put = httpx.put(f"{server}/api/classes/{code}/view", json=view, headers=auth)
    assert put.status_code == 200, put.text
    pg.wait_for_url("**/learn/pooling?**")
    query = parse_qs(urlparse(pg.url).query)
    assert query["kind"] == ["avg"] and query["class"] == [code] and query["lang"] == ["en"]
    same_frame(pg, 2)
    assert pg.locator("select").first.input_value() == "avg"
    pg.wait_for_function(
        "() => document.querySelector('.explain h3')?.textContent.includes('pool1.out[0,0,0,0]')"
    )
    assert httpx.delete(f"{server}/api/classes/{code}", headers=auth).status_code == 204
    pg.wait_for_selector(".class-notice")
