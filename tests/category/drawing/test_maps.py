from category import SchemaMap
from category.drawing.maps import LIGHT, STRONG, UNUSED, _colours, _lines, draw_map


def test_each_image_takes_its_preimage_colour():
    G = SchemaMap.read("examples/triangle_fonts.map")
    src_nodes, src_edges, tgt_nodes, tgt_edges = _colours(G)
    assert src_nodes["Bold"] == tgt_nodes["Bold"] == LIGHT[1]  # merged: the first one's
    assert src_nodes["BoldOblique"] == LIGHT[2]
    assert tgt_edges["f"] == src_edges["ab"] == STRONG[3]  # objects first, then arrows
    assert tgt_edges["g"] == UNUSED  # nothing goes to g


def test_the_list_under_the_pictures_says_every_image_and_failure():
    G = SchemaMap.read("examples/involution_cyclegan.map")
    assert [t for t, _ in _lines(G, [])] == [
        "X ↦ Horse", "s ↦ f.g", "s.s = id(X)  ↦  f.g.f.g = id(Horse): holds",
        "a functor: every equation goes to one that holds"]
    G.ar[G.source["s"]] = G.target.path("f")
    texts = [t for t, _ in _lines(G, G.check())]
    assert texts[-2:] == ["not a functor (1 failure):", "  " + G.check()[0]]


def test_draw_writes_the_format_its_name_says(tmp_path):
    G = SchemaMap.read("examples/involution_cyclegan.map")
    assert type(draw_map(G)).__name__ == "Figure"
    for ext, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        path = tmp_path / f"map.{ext}"
        draw_map(G, path)
        assert path.read_bytes().startswith(magic)
