"""Shared by the RNN page's browser tests: opening the page and waiting for a step."""

RNN = "/learn/rnn"


def open_rnn(pg, server, query=""):
    """Open the RNN page and wait until it and its gradient chart are drawn."""
    pg.goto(server + RNN + query)
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_selector(".rnn-gradients[data-ready]")


def at_step(pg, k):
    """Wait until the player shows frame k."""
    pg.wait_for_function(f"() => document.querySelector('#view').dataset.step === '{k}'")
