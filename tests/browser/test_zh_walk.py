"""Every page in Chinese (issue 17, item 4): the home page, each walkthrough (as
loaded, stepped a few frames, with an explanation open where the page explains a
click) and the 404 page, in zh-CN. Every visible text and every accessible label
(aria-label, title, alt, placeholder, option and button text) must be Chinese, or
be something that is the same in every language: a number, a unit, a formula of
one-letter symbols, a code name (`conv1.out`, `lstm1.t3.i_pre`; text in <code>), or
one of the few names below. A label in English alone fails, listed by where it is.

What is allowed is narrow on purpose: a Latin word passes only if it is a symbol
(w, b, x, h, c, lr, σ ...), a function's name as written in formulas (tanh, ReLU,
softmax), an engine name with a dot, or a proper name (LSTM, MNIST, PyTorch).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from app.routers.pages import TOPICS
from tests.browser.conftest import PageWatch, watched_page
from tests.browser.walk import EXPLAIN, NO_PLAYER

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# An engine name: a dot between lower-case words (conv1.out, lstm1.t3.i_pre,
# loss.probs, bilstm1.fwd.h) or a numbered layer (dense1, relu2), with a cell index
# after it (conv1.dx[0,0,1,2]).
CODE_NAME = re.compile(r"\b(?:[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|[a-z][a-z_]*\d+)\b(?:\[[\d,\s]*\])?")
# A formula's words are its symbols (out = max(window)); prose is words in a row.
PROSE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# One-letter symbols with an index or subscript (x0, h3, y12, W_ih, b_hh, t, T).
SYMBOL = re.compile(r"^(?:[A-Za-z]\d*|[A-Za-z]_[a-z]{1,3}\d*|d[a-z](?:_[a-z]+)?)$")
# Symbols and function names as formulas write them, units, and proper names.
ALLOWED = {
    # symbols and functions of the lecture's formulas
    "lr", "tanh", "sigmoid", "ReLU", "relu", "softmax", "exp", "log", "max", "min",
    "argmax", "avg", "Leaky", "leaky",
    "mse", "MSE",
    # units and number notations
    "px", "ms", "KB", "MB", "e",
    # proper names: the app, the models' and the optimizers' names, file formats
    "Glassbox", "LSTM", "BiLSTM", "RNN", "CNN", "GRU", "MNIST", "PyTorch", "NumPy",
    "SGD", "sgd", "Adam", "adam", "Momentum", "JSON", "CSV", "PNG", "npz", "API", "URL",
    "OpenAPI", "Swagger", "ReDoc",
}  # fmt: skip

BACKWARDS = {"learning-rate"}  # its player opens on the last frame: step back from it

# Every visible text node (not inside code) and every accessible label on the page,
# each with a short path saying where it is.
COLLECT = """() => {
  const where = (el) => {
    const bits = [];
    for (let e = el; e && e !== document.body && bits.length < 4; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) s += `#${e.id}`;
      else if (e.classList.length) s += `.${[...e.classList].slice(0, 2).join(".")}`;
      bits.unshift(s);
    }
    return bits.join(" > ");
  };
  const shown = (el) => el.checkVisibility({ visibilityProperty: true }) &&
    !el.closest("[aria-hidden=true]");
  // Code, and what is marked as another language (the switch to English says "English").
  const code = (el) => el.closest("code, kbd, samp, script, style, noscript, template") ||
    !(el.closest("[lang]")?.lang || "zh").startsWith("zh");
  const formula = (el) => Boolean(el.closest(".formula"));
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (!text || !el || code(el)) continue;
    if (el.tagName === "OPTION" ? !shown(el.closest("select")) : !shown(el)) continue;
    out.push([where(el), text, formula(el)]);
  }
  const labelled = "[aria-label], [title], [alt], [placeholder], input[type=button], " +
    "input[type=submit]";
  for (const el of document.querySelectorAll(labelled)) {
    if (el.closest("[aria-hidden=true]") || code(el)) continue;
    for (const name of ["aria-label", "title", "alt", "placeholder", "value"]) {
      if (name === "value" && el.tagName !== "INPUT") continue;
      const text = (el.getAttribute(name) || "").trim();
      if (text) out.push([`${where(el)} @${name}`, text, false]);
    }
  }
  out.push(["<title>", document.title, false]);
  return out;
}"""


def english_only(text: str, formula: bool = False) -> bool:
    """Whether `text` is a label in Latin letters alone that is not a number, a unit,
    a code name or a proper name; a `formula` (an element of class formula) fails
    only on prose: three Latin words in a row."""
    if CJK.search(text):
        return False
    rest = CODE_NAME.sub(" ", text)
    if formula:
        return any(any(w not in ALLOWED for w in run.split()) for run in PROSE.findall(rest))
    words = LATIN_WORD.findall(rest)
    return any(w not in ALLOWED and not SYMBOL.match(w) for w in words)


def test_the_rule_itself():
    """The allowed patterns are narrow: English words fail, the rest passes."""
    for fine in ("conv1.out", "lstm1.t3.i_pre [0,2]", "3×3", "0.25", "w = w − lr · dw",
                 "σ(z)", "tanh(c)", "t = 3", "h3", "W_ih", "12 px", "前向传播 · conv1",
                 "LSTM", "1e-3", "x0 h", "ReLU 2", "conv1.dx[0,0,1,2] = 0.5"):  # fmt: skip
        assert not english_only(fine), fine
    for bad in ("forward · conv1", "input", "backward 1/4", "(space)", "Play", "dense_last",
                "Convolution basics", "scalar", "lstm_step"):  # fmt: skip
        assert english_only(bad), bad
    assert not english_only("out = max(window);  mask = 𝟙[x = argmax(window)]", formula=True)
    assert english_only("mask = 1 at the first maximum", formula=True)


@pytest.fixture(scope="module")
def shared(browser: object, server: str) -> Iterator[tuple[object, PageWatch]]:
    """One page for the whole walk (each test starts it on a new address)."""
    with watched_page(browser, server) as watched:
        yield watched


@pytest.fixture
def zh_page(shared: tuple[object, PageWatch]) -> tuple[object, PageWatch]:
    """The shared page with a clean watch: what one test sees is that test's."""
    shared[1].reset()
    return shared


def english_labels(pg: object) -> list[str]:
    """The page's labels that are English alone, one line each, without repeats."""
    seen: dict[str, str] = {}
    for where, text, formula in pg.evaluate(COLLECT):
        if english_only(text, formula):
            seen.setdefault(text, where)
    return [f"{text!r} at {where}" for text, where in seen.items()]


def walk(pg: object, found: list[str], when: str) -> None:
    found += [f"[{when}] {line}" for line in english_labels(pg)]


# The first player's frame once it shows one and is not loading another, else null.
FRAME = """() => {
  const p = document.querySelector(".player");
  if (!p || p.hasAttribute("data-busy") || p.dataset.frame === undefined) return null;
  return p.dataset.frame;
}"""


def step_on(pg: object, act: str = "step") -> None:
    """Step the first player one frame (`act`: "step" or "back") and wait until it shows it."""
    before = pg.evaluate(FRAME)
    pg.locator(f".player [data-act={act}]").first.click()
    pg.wait_for_function(
        f"(before) => {{ const f = ({FRAME})(); return f !== null && f !== before; }}",
        arg=before,
    )


def test_home_page(zh_page, server):
    pg, _ = zh_page
    pg.goto(f"{server}/?lang=zh-CN")
    found: list[str] = []
    walk(pg, found, "home")
    assert not found, "English-only labels on the home page:\n" + "\n".join(found)


@pytest.mark.console_errors_expected(r"status of 404")  # the page's own status
def test_404_page(zh_page, server):
    pg, _ = zh_page
    assert pg.goto(f"{server}/no-such-page?lang=zh-CN").status == 404
    found: list[str] = []
    walk(pg, found, "404")
    assert not found, "English-only labels on the 404 page:\n" + "\n".join(found)


@pytest.mark.parametrize("topic", list(TOPICS))
def test_walkthrough(zh_page, server, topic):
    pg, _ = zh_page
    pg.goto(f"{server}/learn/{topic}?lang=zh-CN")
    pg.wait_for_selector("#view[data-ready]")
    found: list[str] = []
    walk(pg, found, "as loaded")
    if topic not in NO_PLAYER:  # three frames on: other steps, other labels
        for _ in range(3):
            step_on(pg, "back" if topic in BACKWARDS else "step")
        walk(pg, found, "stepped")
    if topic in EXPLAIN:
        target, position = EXPLAIN[topic]
        pg.locator(target).first.click(position=position)
        pg.wait_for_selector(".explain[data-kind]")
        walk(pg, found, "explained")
    found = list(dict.fromkeys(found))
    assert not found, f"English-only labels on /learn/{topic}:\n" + "\n".join(found)


@pytest.mark.console_errors_expected(r"status of 422")  # the refused request, on purpose
def test_an_error_a_student_causes_is_in_chinese(zh_page, server):
    """A number the RNN page cannot read: the server's plain words in the page's language."""
    pg, _ = zh_page
    pg.goto(f"{server}/learn/rnn?lang=zh-CN&preset=sine-rnn")
    pg.wait_for_selector("#view[data-ready]")
    pg.locator("[data-control=numbers]").fill("0 1 zwei 3")
    pg.locator("[data-control=run-numbers]").click()
    shown = pg.locator(".error").inner_text()
    assert CJK.search(shown) and "“zwei”" in shown and "input.sequence" not in shown, shown
    found: list[str] = []
    walk(pg, found, "error")
    assert not found, "English-only labels with an error shown:\n" + "\n".join(found)
