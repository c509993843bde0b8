"""Where the app's files are: in the installed package, else in the source tree.

The repository keeps static/ and templates/ at its top, beside app/; a wheel carries
them inside the package, as app/static and app/templates (setup.py maps them there),
and the catalogs as app/locales in both. Found with importlib.resources, so an
installed Glassbox serves its own files from any working directory.
"""

from importlib import resources
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def app_dir(name: str) -> Path:
    """The directory `name` (static, templates, locales) of the app: inside the
    installed package if it is there, else at the top of the source tree."""
    for candidate in (Path(str(resources.files("app") / name)), SOURCE_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(
        f"Glassbox's {name}/ directory is missing: looked in the installed package "
        f"({resources.files('app') / name}) and in the source tree ({SOURCE_ROOT / name}); "
        "reinstall Glassbox from its source folder (pip install .) or run it from a full checkout"
    )
