from app import __version__
from engine.presets import list_presets

TEACHING_PRESETS = {"conv-basics", "tensor-conv", "digits-cnn", "shapes-cnn"}


def test_healthz_reports_ok_version_and_every_engine_preset(client):
    r = client.get("/healthz")

    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["presets"] == [p.name for p in list_presets()]
    assert set(body["presets"]) >= TEACHING_PRESETS


def test_swagger_and_redoc_are_off_until_served_offline(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_app_pins_blas_to_one_thread():
    from threadpoolctl import threadpool_info

    from app.main import create_app

    create_app()
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)
