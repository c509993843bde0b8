"""The browser fixture fails a test on a console error by itself (tests/browser/conftest.py).

Checked without a browser: an inner pytest run uses the real hook and PageWatch on a
stand-in page that emits the events Playwright would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INNER_CONFTEST = '''
import pytest
from tests.browser.conftest import PageWatch, pytest_configure, pytest_runtest_call


class Message:
    def __init__(self, kind, text):
        self.type, self.text = kind, text


class FakePage:
    """Records the handlers PageWatch registers, so a test can fire page events."""

    def __init__(self):
        self.handlers = {}

    def on(self, event, handler):
        self.handlers[event] = handler

    def route(self, pattern, handler):
        pass

    def emit(self, event, value):
        self.handlers[event](value)


@pytest.fixture
def page():
    pg = FakePage()
    yield pg, PageWatch(pg, "http://127.0.0.1:1")


@pytest.fixture
def other_page():
    """A watched page under another name (as a module's page on its own server)."""
    pg = FakePage()
    yield pg, PageWatch(pg, "http://127.0.0.1:2")
'''

INNER_TESTS = """
import pytest
from conftest import Message


def test_console_error(page):
    page[0].emit("console", Message("error", "Failed to load resource: 500"))


def test_page_error(page):
    page[0].emit("pageerror", RuntimeError("x is not defined"))


def test_console_warning_and_log(page):
    page[0].emit("console", Message("warning", "slow"))
    page[0].emit("console", Message("log", "hello"))


@pytest.mark.console_errors_expected("status of 422")
def test_expected_error(page):
    page[0].emit("console", Message("error", "the server responded with a status of 422"))


@pytest.mark.console_errors_expected("status of 422")
def test_unexpected_error_beside_an_expected_one(page):
    page[0].emit("console", Message("error", "the server responded with a status of 422"))
    page[0].emit("console", Message("error", "TypeError: boom"))


def test_console_error_on_another_watched_page(other_page):
    other_page[0].emit("console", Message("error", "Uncaught ReferenceError"))


def test_own_failure_is_kept(page):
    page[0].emit("console", Message("error", "also logged"))
    assert 1 == 2, "the test's own failure"
"""


def test_the_page_fixture_fails_a_test_on_console_and_page_errors_unless_expected(tmp_path):
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout
    outcome = {
        line.split("::")[1].split()[0]: line.split()[0]
        for line in out.splitlines()
        if line.startswith(("PASSED", "FAILED", "ERROR")) and "::" in line
    }
    assert outcome == {
        "test_console_error": "FAILED",
        "test_page_error": "FAILED",
        "test_console_warning_and_log": "PASSED",
        "test_expected_error": "PASSED",
        "test_unexpected_error_beside_an_expected_one": "FAILED",
        "test_console_error_on_another_watched_page": "FAILED",
        "test_own_failure_is_kept": "FAILED",
    }, out
    assert "console errors: ['TypeError: boom']" in out
    assert "the test's own failure" in out
