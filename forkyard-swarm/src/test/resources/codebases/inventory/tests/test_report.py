from inventory.report import render


def test_render_text():
    assert render([[1, 2]]) == "1 2"
