"""The package list for setuptools; everything else is in pyproject.toml.

The repository keeps static/ and templates/ at its top, beside app/ and engine/; the
wheel carries them inside the app package, as app/static and app/templates (their files
are package data, pyproject.toml's [tool.setuptools.package-data]), where
app/resources.py finds them. pyproject.toml alone cannot add these two mapped
directories to the packages it discovers, hence this file. bench/ and tests/ stay out.
"""

from setuptools import find_packages, setup

MAPPED = {"app.static": "static", "app.templates": "templates"}

setup(
    packages=[*find_packages(include=["app", "app.*", "engine", "engine.*"]), *MAPPED],
    package_dir=MAPPED,
)
