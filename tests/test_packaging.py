"""An installed wheel (not only this checkout) carries its templates, static files and fonts."""

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)], check=True, timeout=300)
    return next(out.glob("checkin-*.whl"))


def test_wheel_contains_templates_static_fonts_and_translations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("checkin/templates/base.html", "checkin/static/css/app.css",
                   "checkin/static/vendor/jsqr/jsQR.js", "checkin/static/vendor/jsqr/LICENSE",
                   "checkin/fonts/NotoSans-Regular.ttf", "checkin/fonts/OFL.txt",
                   "checkin/translations/de/LC_MESSAGES/messages.mo"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "checkin/tests/")) for n in names)


def test_installed_package_serves_pages_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    script = (
        "import checkin, sys\n"
        f"assert checkin.__file__.startswith({str(target)!r}), checkin.__file__\n"
        f"app = checkin.create_app({{'DATABASE': {str(tmp_path / 'e.db')!r}}})\n"
        "page = app.test_client().get('/login?lang=de')\n"
        "assert page.status_code == 200 and 'Anmelden' in page.get_data(as_text=True)\n"
        "assert app.test_client().get('/static/css/app.css').status_code == 200\n"
        "print('ok')\n")
    # PYTHONPATH puts the installed copy ahead of this checkout's editable install.
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(target),
                                                       "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "ok", done.stderr
