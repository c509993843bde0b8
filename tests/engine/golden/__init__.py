"""Golden files made from PyTorch, so the default test run needs no torch."""
