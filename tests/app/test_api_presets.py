"""GET /api/presets and /api/presets/{name}."""

from engine.presets import list_presets


def test_presets_list_every_engine_preset_with_both_languages(client):
    got = client.get("/api/presets").json()
    assert [p["name"] for p in got] == [p.name for p in list_presets()]
    for p in got:
        assert p["title"]["en"] and p["title"]["zh-CN"] and p["summary"]["zh-CN"]


def test_preset_detail_has_layers_shapes_parameters_and_dataset(client):
    d = client.get("/api/presets/digits-cnn").json()
    assert d["trained"] is True
    layers = d["network"]["layers"]
    assert [lay["name"] for lay in layers][:3] == ["conv1", "relu1", "pool1"]
    assert layers[0]["params"] == {"w": [12, 1, 3, 3], "b": [12]}
    assert layers[0]["output_shape"] == [12, 8, 8]
    assert layers[-1]["output_shape"] == [10]
    assert d["network"]["parameter_count"] == sum(
        __import__("math").prod(s) for lay in layers for s in lay["params"].values()
    )
    assert d["dataset"]["name"] == "digits" and d["dataset"]["test"] == 359
    assert d["meta"]["test_accuracy"] >= 0.96


def test_unknown_preset_is_404_listing_the_valid_names(client):
    r = client.get("/api/presets/resnet50")
    assert r.status_code == 404
    assert "conv-basics" in r.json()["detail"] and "digits-cnn" in r.json()["detail"]
