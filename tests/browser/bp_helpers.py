"""Shared by the BP page's browser tests: the page, waiting for a build, and the
API's tensors as plain lists."""

import httpx

BP = "/learn/bp"


def ready(pg, builds=1):
    """Wait until the page has built its n-th network (session, pass, epoch 0)."""
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_selector(f"#view[data-built='{builds}']")


def tensor(server, sid, name):
    r = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return data[0] if isinstance(data[0], list) and len(r.json()["shape"]) == 2 else data


def flat(data):
    return [v for row in data for v in row] if isinstance(data[0], list) else data


def column(pg, selector, key):
    """The output table's column `key`, one number per class (None where not yet known)."""
    return pg.eval_on_selector_all(
        f"{selector} td[data-key='{key}']",
        "ts => ts.map(t => t.dataset.value === '' ? null : +t.dataset.value)",
    )
