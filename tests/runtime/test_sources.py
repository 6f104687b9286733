import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from compiler import Euclid
from runtime.errors import RunError, SourceError
from runtime.sources import (
    Augment,
    Circles,
    GaussianPrior,
    ImageFolder,
    Product,
    TensorSource,
    as_source,
    check_source,
    circles,
    draw_circles,
    font_names,
    glyphs,
    skin_tones,
)
from runtime.sources.images import to_uint8
from runtime.train.loader import Batches


def png(path, size=(8, 6), mode="RGB", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    a = np.full((h, w, len(mode)) if mode != "L" else (h, w), value, dtype=np.uint8)
    Image.fromarray(a.squeeze() if mode == "L" else a, mode=mode).save(path)


# ImageFolder ----------------------------------------------------------------------------

def test_image_folder_nested_sorted_rgb_in_unit_range(tmp_path):
    png(tmp_path / "b" / "z.png", value=255)
    png(tmp_path / "a.png", value=0)
    png(tmp_path / "b" / "c" / "y.jpg", value=128)
    (tmp_path / "notes.txt").write_text("not an image")
    s = ImageFolder(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in s.files] == ["a.png", "b/c/y.jpg",
                                                                     "b/z.png"]
    x = s[0]
    assert x.dtype == torch.float32 and tuple(x.shape) == (3, 6, 8)
    assert float(x.min()) == -1.0 and float(s[2].max()) == 1.0
    assert abs(float(s[1].mean())) < 0.02  # 128 -> ~0


def test_image_folder_converts_channels_and_resizes_mixed_sizes(tmp_path):
    png(tmp_path / "rgb.png", size=(10, 20), mode="RGB", value=200)
    png(tmp_path / "gray.png", size=(7, 5), mode="L", value=50)
    png(tmp_path / "rgba.png", size=(12, 12), mode="RGBA", value=90)
    gray = ImageFolder(tmp_path, size=16, channels=1)
    assert all(tuple(gray[i].shape) == (1, 16, 16) for i in range(3))
    rgb = ImageFolder(tmp_path, size=(8, 12), channels=3)
    assert all(tuple(rgb[i].shape) == (3, 8, 12) for i in range(3))
    assert tuple(ImageFolder(tmp_path, size=4, channels=4)[0].shape) == (4, 4, 4)
    # a gray image in RGB has three equal channels
    g = rgb[[p.name for p in rgb.files].index("gray.png")]
    assert torch.equal(g[0], g[1]) and torch.equal(g[1], g[2])
    assert rgb.gather(torch.tensor([2, 0])).shape == (2, 3, 8, 12)


def test_image_folder_without_images_names_folder_extensions_and_findings(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    with pytest.raises(SourceError) as e:
        ImageFolder(tmp_path)
    msg = str(e.value)
    assert str(tmp_path) in msg and ".png" in msg and ".webp" in msg and "2 .txt" in msg
    assert isinstance(e.value, RunError) and isinstance(e.value, ValueError)


def test_unreadable_files_are_skipped_with_one_warning(tmp_path):
    for i in range(3):
        png(tmp_path / f"ok{i}.png")
    (tmp_path / "garbage.png").write_bytes(b"definitely not a png")
    good = (tmp_path / "ok0.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    Image.fromarray(np.zeros((40, 40, 3), np.uint8) + 7).save(tmp_path / "cut.jpg")
    jpg = (tmp_path / "cut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(jpg[: len(jpg) * 2 // 3])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = ImageFolder(tmp_path)
    assert len(w) == 1
    msg = str(w[0].message)
    assert "garbage.png" in msg and "truncated.png" in msg and "cut.jpg" in msg
    assert "3 unreadable" in msg
    assert len(s) == 3 and tuple(s[2].shape) == (3, 6, 8)


def test_all_unreadable_is_an_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"nope")
    (tmp_path / "b.png").write_bytes(b"nope")
    with pytest.warns(UserWarning), pytest.raises(SourceError, match="all 2 image file"):
        ImageFolder(tmp_path)


def test_mismatched_sizes_without_size_is_an_error_listing_sizes(tmp_path):
    png(tmp_path / "a.png", size=(8, 6))
    png(tmp_path / "b.png", size=(8, 6))
    png(tmp_path / "c.png", size=(5, 9))
    with pytest.raises(SourceError) as e:
        ImageFolder(tmp_path)
    msg = str(e.value)
    assert "6x8 (2 images)" in msg and "9x5 (1 images)" in msg and "size=" in msg


def png16(path, a):
    """A 16-bit PNG of ``a`` (uint16 ``[h, w]`` grey or ``[h, w, 3]`` RGB), written by hand:
    Pillow writes 16-bit grey but not 16-bit RGB."""
    a = np.asarray(a, np.uint16)
    h, w = a.shape[:2]
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in a)

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", w, h, 16, 0 if a.ndim == 2 else 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def texture(w, h, seed=0):
    """A photo-like ``[h, w, 3]`` uint8 image: smooth colour, noise, hard-edged discs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    a = np.stack([np.sin(7 * x + 3 * y), np.cos(5 * y - 2 * x), np.sin(11 * x * y)], -1)
    a = (a + 1) * 100 + rng.normal(0, 12, (h, w, 3))
    for _ in range(12):
        cx, cy, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.03, 0.15)]
        a[(x - cx) ** 2 + (y - cy * h / max(w, h)) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return np.clip(a, 0, 255).astype(np.uint8)


def test_16_bit_grey_pngs_are_scaled_by_their_depth(tmp_path):
    values = {"black": 0, "near_black": 300, "mid": 32768, "white": 65535, "v128": 128 * 257}
    for name, v in values.items():
        Image.fromarray(np.full((6, 8), v, np.uint16)).save(tmp_path / f"{name}.png")
    with Image.open(tmp_path / "mid.png") as im:
        assert im.mode == "I;16"
    png(tmp_path / "eight_bit_128.png", mode="L", value=128)
    for channels in (1, 3):
        s = ImageFolder(tmp_path, channels=channels)
        x = {p.stem: s[i] for i, p in enumerate(s.files)}
        assert bool((x["black"] == -1).all()) and bool((x["white"] == 1).all())
        assert bool((x["mid"].abs() < 0.01).all())
        assert bool((x["near_black"] < -0.98).all())  # 300 / 65535 is nearly black
        assert torch.equal(x["v128"], x["eight_bit_128"])  # 16-bit 128·257 is 8-bit 128
    # a resized 16-bit gradient matches the same gradient in 8 bits
    ramp = np.tile(np.linspace(0, 255, 64), (16, 1))
    folder = tmp_path / "ramps"
    folder.mkdir()
    Image.fromarray((ramp * 257).round().astype(np.uint16)).save(folder / "a16.png")
    Image.fromarray(ramp.round().astype(np.uint8)).save(folder / "b8.png")
    s = ImageFolder(folder, size=(4, 8), channels=1)
    assert (s[0] - s[1]).abs().max() <= 2 / 255 + 1e-6


def test_16_bit_rgb_pngs_are_read_at_their_scale(tmp_path):
    # Pillow reads 16-bit RGB (and RGBA) PNGs as 8-bit, keeping the high byte: right as is
    png16(tmp_path / "rgb16.png", np.full((6, 8, 3), (0, 32768, 65535), np.uint16))
    with Image.open(tmp_path / "rgb16.png") as im:
        assert im.mode == "RGB"
    x = ImageFolder(tmp_path)[0]
    assert torch.allclose(x[:, 0, 0], torch.tensor([-1.0, 1 / 255, 1.0]), atol=1e-6)


def test_other_deep_grey_modes_are_scaled_or_refused(tmp_path):
    v = np.array([[0, 300, 32768, 65535]] * 2, np.uint16)
    expected = torch.tensor([0, 1, 128, 255], dtype=torch.uint8).expand(1, 2, 4)
    big_endian = Image.frombytes("I;16B", (4, 2), v.astype(">u2").tobytes())
    assert torch.equal(to_uint8(big_endian, 1, None), expected)
    assert torch.equal(to_uint8(Image.fromarray(v.astype(np.int32)), 1, None), expected)  # I
    ramp = np.tile(np.linspace(0, 65535, 64), (16, 1)).astype(np.uint16)
    be_ramp = Image.frombytes("I;16B", (64, 16), ramp.astype(">u2").tobytes())
    assert torch.equal(to_uint8(be_ramp, 3, (4, 8)), to_uint8(Image.fromarray(ramp), 3, (4, 8)))
    with pytest.raises(SourceError, match=r"32-bit integers from -5 to 70000, outside 0\.\.65535"):
        to_uint8(Image.fromarray(np.array([[-5, 70000]], np.int32)), 1, None)
    # a float image (TIFF content under a .png name: Pillow goes by content) names its file
    Image.fromarray(np.full((6, 8), 0.5, np.float32)).save(tmp_path / "float.png", "TIFF")
    with pytest.raises(SourceError) as e:
        ImageFolder(tmp_path)[0]
    assert "float.png" in str(e.value) and "floating-point (mode F)" in str(e.value)


MODE_CASES = [(mode, channels) for mode in ("RGB", "L", "RGBA", "P", "LA")
              for channels in (1, 3, 4)]


@pytest.mark.parametrize("mode, channels", MODE_CASES)
def test_resizing_stays_close_to_converting_then_resizing_the_full_image(tmp_path, mode, channels):
    rgb = Image.fromarray(texture(300, 200))
    alpha = Image.fromarray(texture(300, 200, seed=1)[..., 0])
    im = {"RGB": rgb, "L": rgb.convert("L"), "P": rgb.convert("P"),
          "RGBA": Image.merge("RGBA", (*rgb.split(), alpha)),
          "LA": Image.merge("LA", (rgb.convert("L"), alpha))}[mode]
    im.save(tmp_path / "a.png")
    target = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    for size in ((32, 32), (24, 40), (100, 150)):
        with Image.open(tmp_path / "a.png") as ref:  # the previous path, done by hand
            if "A" in mode and channels != 4:  # transparency: composited on white first
                ref = Image.alpha_composite(Image.new("RGBA", ref.size, "white"),
                                            ref.convert("RGBA"))
            ref = np.asarray(ref.convert(target).resize(size[::-1], Image.Resampling.BICUBIC))
        ref = torch.from_numpy(ref.astype(np.int16).reshape(*size, channels)).permute(2, 0, 1)
        got = ImageFolder(tmp_path, size=size, channels=channels)._load(0).to(torch.int16)
        d = (got - ref).abs()
        assert d.max() <= 4 and d.float().mean() <= 0.5, (size, int(d.max()))


def test_transparent_pixels_read_as_the_background(tmp_path):
    """A palette PNG with a transparent entry, an RGBA and an LA image: transparent pixels
    read as the background (white by default), never as the colour stored under them;
    with channels=4 the alpha is kept."""
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)  # entry 0 black, entry 1 red
    pal.putpixel((0, 0), 1)
    pal.save(tmp_path / "a_palette.png", transparency=0)  # entry 0 (black) is transparent
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "b_rgba.png")
    Image.new("LA", (4, 4), (0, 0)).save(tmp_path / "c_la.png")
    white = ImageFolder(tmp_path)
    for i in range(3):
        assert white[i][:, 1:, 1:].eq(1).all(), white.files[i].name
    assert white[0][:, 0, 0].tolist() == pytest.approx([200 / 127.5 - 1, 30 / 127.5 - 1,
                                                        30 / 127.5 - 1])
    blue = ImageFolder(tmp_path, background="#0000ff")
    assert blue[0][:, 3, 3].tolist() == [-1.0, -1.0, 1.0]
    assert ImageFolder(tmp_path, background="black", channels=1)[1].eq(-1).all()
    rgba = ImageFolder(tmp_path, channels=4)
    assert rgba[0][3, 3, 3] == -1 and rgba[0][3, 0, 0] == 1  # alpha kept: 0 there, 255 here
    with pytest.raises(SourceError, match="background must be a colour name"):
        ImageFolder(tmp_path, background="transparent-ish")


def test_channels_none_takes_grey_or_colour_from_the_images(tmp_path):
    png(tmp_path / "grey" / "a.png", mode="L")
    png(tmp_path / "grey" / "b.png", mode="LA")
    png(tmp_path / "mixed" / "a.png", mode="L")
    png(tmp_path / "mixed" / "b.png", mode="RGB")
    assert ImageFolder(tmp_path / "grey", channels=None).shape == (1, 6, 8)
    assert ImageFolder(tmp_path / "mixed", channels=None).shape == (3, 6, 8)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_matches_a_full_resize(tmp_path):
    Image.fromarray(texture(1024, 768)).save(tmp_path / "big.jpg", quality=90)
    with Image.open(tmp_path / "big.jpg") as im:
        x = to_uint8(im, 3, (24, 32))
        assert im.size == (128, 96)  # the decoder kept 1/8 of each side: 1/64 of the memory
    with Image.open(tmp_path / "big.jpg") as im:
        ref = np.asarray(im.convert("RGB").resize((32, 24), Image.Resampling.BICUBIC))
    d = (x.to(torch.int16) - torch.from_numpy(ref.astype(np.int16)).permute(2, 0, 1)).abs()
    assert tuple(x.shape) == (3, 24, 32) and d.max() <= 8 and d.float().mean() <= 1.0


# TensorSource, GaussianPrior, Product ---------------------------------------------------

def test_tensor_source_refuses_non_tensors_scalars_and_empty():
    with pytest.raises(SourceError, match="torch.from_numpy"):
        TensorSource(np.zeros((3, 2)))
    with pytest.raises(SourceError, match="0-d"):
        TensorSource(torch.tensor(1.0))
    with pytest.raises(SourceError, match="empty"):
        TensorSource(torch.zeros(0, 3))
    s = TensorSource(torch.arange(6.0).view(3, 2))
    assert len(s) == 3 and torch.equal(s[1], torch.tensor([2.0, 3.0]))


def test_gaussian_prior_is_deterministic_per_index_and_seed():
    p, q = GaussianPrior((2, 3), seed=5), GaussianPrior((2, 3), seed=5)
    assert torch.equal(p[10], q[10]) and not torch.equal(p[10], p[11])
    assert not torch.equal(p[10], GaussianPrior((2, 3), seed=6)[10])
    assert len(p) > 2 ** 60 and tuple(p[2 ** 61].shape) == (2, 3)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(p.sample(7, g1), p.sample(7, g2))
    big = p.sample(20000, torch.Generator().manual_seed(0))
    assert abs(float(big.mean())) < 0.02 and abs(float(big.std()) - 1) < 0.02


def test_product_pairs_by_index_and_refuses_mismatched_lengths():
    a, b = TensorSource(torch.arange(4.0)), TensorSource(-torch.arange(4.0))
    p = Product(a, b)
    assert len(p) == 4 and p[3] == (torch.tensor(3.0), torch.tensor(-3.0))
    with pytest.raises(SourceError, match="factor 0: 4, factor 1: 3"):
        Product(a, TensorSource(torch.zeros(3)))
    assert len(Product(a, GaussianPrior(2))) == 4  # a prior factor adapts


# check_source ---------------------------------------------------------------------------

def test_check_source_accepts_a_fitting_source():
    check_source("H", Euclid(3, 4, 4), TensorSource(torch.zeros(5, 3, 4, 4)))
    check_source("Z", Euclid(8), GaussianPrior(8))
    check_source("BxC", Euclid(2) * Euclid(3),
                 (TensorSource(torch.zeros(4, 2)), TensorSource(torch.zeros(4, 3))))


def test_check_source_names_object_expected_and_found_shape_and_channels():
    with pytest.raises(SourceError) as e:
        check_source("Horse", Euclid(3, 32, 32), TensorSource(torch.zeros(2, 1, 32, 32)))
    msg = str(e.value)
    assert "Horse" in msg and "(3, 32, 32)" in msg and "(1, 32, 32)" in msg
    assert "channels: expected 3, found 1" in msg
    with pytest.raises(SourceError, match=r"expected shape \(3, 32, 32\), found \(3, 64, 64\)"):
        check_source("Horse", Euclid(3, 32, 32), TensorSource(torch.zeros(2, 3, 64, 64)))


def test_check_source_reports_tuple_length_for_products():
    space = Euclid(2) * Euclid(3)
    with pytest.raises(SourceError) as e:
        check_source("BxC", space, TensorSource(torch.zeros(4, 2)))
    msg = str(e.value)
    assert "BxC" in msg and "tuple of 2 tensors" in msg and "shape (4, 2)" not in msg
    assert "shape (2,)" in msg
    three = Product(*(TensorSource(torch.zeros(4, 2)) for _ in range(3)))
    with pytest.raises(SourceError, match="tuple of 2 tensors .* got a tuple of 3"):
        check_source("BxC", space, three)
    with pytest.raises(SourceError, match="BxC.*expected a tuple of 2 sources.*got 3"):
        check_source("BxC", space, (TensorSource(torch.zeros(4, 2)),) * 3)
    with pytest.raises(SourceError, match=r"factor 1: expected shape \(3,\), found \(2,\)"):
        check_source("BxC", space, (TensorSource(torch.zeros(4, 2)),) * 2)


def test_check_source_reports_non_finite_dtype_and_empty():
    x = torch.zeros(5, 4)
    x[4, 1] = float("nan")
    with pytest.raises(SourceError, match=r"Horse .*non-finite.*sample 4"):
        check_source("Horse", Euclid(4), TensorSource(x))
    with pytest.raises(SourceError, match="expected dtype torch.float32, found torch.uint8"):
        check_source("Horse", Euclid(4), TensorSource(torch.zeros(5, 4, dtype=torch.uint8)))
    with pytest.raises(SourceError, match="Horse.*expected one source, got a list of 0"):
        check_source("Horse", Euclid(4), [])
    with pytest.raises(SourceError, match="Horse.*len 0"):
        check_source("Horse", Euclid(4), torch.utils.data.TensorDataset(torch.zeros(0, 4)))


def test_a_tensor_is_a_source_of_its_samples_along_dim_0():
    x = torch.randn(10, 3, 4, 4)
    s = as_source(x)
    assert isinstance(s, TensorSource) and len(s) == 10 and torch.equal(s[3], x[3])
    idx = torch.tensor([7, 2, 2])
    assert torch.equal(s.gather(idx), x[idx])  # the loader's fast path, not Tensor.gather
    check_source("H", Euclid(3, 4, 4), x)
    batch = next(Batches({"H": x}, 4, seed=1))["H"]  # the loader wraps it the same way
    assert batch.shape == (4, 3, 4, 4) and all(any(torch.equal(b, r) for r in x) for b in batch)
    p = as_source((torch.zeros(4, 2), torch.ones(4, 3)))  # a product of two tensors
    assert isinstance(p, Product) and all(isinstance(f, TensorSource) for f in p.sources)
    check_source("BxC", Euclid(2) * Euclid(3), (torch.zeros(4, 2), torch.ones(4, 3)))
    with pytest.raises(SourceError, match=r"source for object H: TensorSource .*from_numpy"):
        as_source(np.zeros((4, 2)), "H")


NOT_DATASETS = [({0: torch.zeros(3)}, "(dict)"), ((x for x in range(3)), "(generator)"),
                (5, "5 (int)"), ("abc", "'abc' (str)")]


@pytest.mark.parametrize("bad, came", NOT_DATASETS, ids=[c for _, c in NOT_DATASETS])
def test_what_is_not_a_dataset_is_refused_naming_the_object(bad, came):
    expected = r"expected a dataset \(an object with len\(\) and \[i\]"
    with pytest.raises(SourceError, match=rf"^source for object Horse: {expected}") as e:
        as_source(bad, "Horse")  # as the trainer calls it, before check_source
    assert str(e.value).endswith(came)
    with pytest.raises(SourceError, match=rf"^source for object Horse \(R\^3\): {expected}"):
        check_source("Horse", Euclid(3), bad)


def test_a_list_of_numbers_for_a_product_says_what_a_list_means():
    with pytest.raises(SourceError) as e:
        check_source("BxC", Euclid(2) * Euclid(3), [1, 2])
    msg = str(e.value)
    assert msg.startswith("source for object BxC (R^2 × R^3): factor 0: expected a dataset")
    assert "got 1 (int)" in msg and "one source per factor" in msg and "one tensor" in msg


# glyphs ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sans():
    return glyphs("DejaVuSans.ttf")


@pytest.fixture(scope="module")
def bold():
    return glyphs("DejaVuSans-Bold.ttf")


def test_glyphs_layout_and_determinism(sans):
    assert 200 <= len(sans) <= 215 and len(sans.chars) == len(sans)
    x = sans[sans.chars.index("W")]
    assert x.dtype == torch.float32 and tuple(x.shape) == (1, 32, 32)
    assert float(x.min()) == -1.0 and float(x.max()) > 0.9  # white glyph on black
    border = torch.cat([sans.tensor[..., 0, :], sans.tensor[..., -1, :],
                        sans.tensor[..., 0], sans.tensor[..., -1]], -1)
    assert bool((border == -1).all())  # every glyph fits with a margin
    again = glyphs("DejaVuSans.ttf", chars=sans.chars)
    assert torch.equal(again.tensor, sans.tensor)


def test_glyphs_are_centred_by_ink(sans):
    for ch in "A.g|":
        ink = (sans[sans.chars.index(ch)][0] + 1) / 2
        ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
        rows, cols = ink.sum(1) > 0.05, ink.sum(0) > 0.05
        r = torch.nonzero(rows).flatten()
        c = torch.nonzero(cols).flatten()
        assert abs((r[0] + r[-1]) / 2 - 15.5) <= 1 and abs((c[0] + c[-1]) / 2 - 15.5) <= 1, ch


def test_glyph_split_is_by_character_disjoint_and_same_across_fonts():
    train, test = glyphs(split="train"), glyphs(split="test")
    assert not set(train.chars) & set(test.chars)
    assert len(set(train.chars) | set(test.chars)) == len(glyphs().chars)
    assert 0.15 < len(test) / (len(train) + len(test)) < 0.25
    assert glyphs("DejaVuSerif.ttf", split="test").chars == test.chars
    assert glyphs("DejaVuSans-Bold.ttf", split="train").chars == train.chars
    assert glyphs(split="test", seed=1).chars != test.chars
    # both splits share the scale of the whole set
    assert train.em == test.em == glyphs().em


def test_paired_glyphs_of_two_fonts_are_closer_than_other_characters(sans, bold):
    assert sans.chars == bold.chars
    d = (sans.tensor[:, None] - bold.tensor[None]).abs().mean((2, 3, 4))
    paired = d.diag().mean()
    others = (d.sum() - d.diag().sum()) / (d.numel() - len(d))
    assert paired < 0.6 * others
    assert sans.em == bold.em  # one scale for both fonts


def test_glyphs_skip_missing_characters_and_unknown_font_lists_fonts():
    g = glyphs("cmr10.ttf")  # a TeX font: no Cyrillic
    assert "A" in g.chars and "Ж" not in g.chars
    with pytest.raises(SourceError) as e:
        glyphs("NoSuchFont.ttf")
    assert "NoSuchFont.ttf" in str(e.value) and "DejaVuSans-Bold.ttf" in str(e.value)
    assert "DejaVuSans.ttf" in font_names()


@pytest.mark.parametrize("content", [b"hello world", "png", "cut"])
def test_a_file_that_is_not_a_font_is_a_source_error_naming_it(tmp_path, content):
    path = tmp_path / "fake.ttf"
    if content == "png":  # another format, under a font's name
        png(path.with_suffix(".png"))
        path.write_bytes(path.with_suffix(".png").read_bytes())
    elif content == "cut":  # a real font, truncated
        real = glyphs(chars="A", size=8).font.read_bytes()
        path.write_bytes(real[: len(real) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(SourceError) as e:
        glyphs(path, chars="AB", size=16)
    msg = str(e.value)
    assert str(path) in msg and "not a TrueType or OpenType font" in msg and "font_names()" in msg


def test_a_missing_font_file_a_folder_and_a_misspelt_name_say_so(tmp_path):
    with pytest.raises(SourceError, match=r"font file '.*nope\.ttf' does not exist"):
        glyphs(tmp_path / "nope.ttf")
    with pytest.raises(SourceError, match=r"font '.*' is a folder"):
        glyphs(tmp_path)
    with pytest.raises(SourceError) as e:
        glyphs("DejaVuSan.ttf")
    msg = str(e.value)
    assert "unknown font 'DejaVuSan.ttf' (did you mean 'DejaVuSans.ttf'?)" in msg
    assert "DejaVuSans-Bold.ttf" in msg and "fonts/ttf" in msg.replace("\\", "/")


# circles, Augment -----------------------------------------------------------------------

def test_circles_are_deterministic_by_seed_and_redrawable_from_params():
    a, b, c = circles(8, seed=3), circles(8, seed=3), circles(8, seed=4)
    assert torch.equal(a.tensor, b.tensor) and not torch.equal(a.tensor, c.tensor)
    assert tuple(a[0].shape) == (3, 32, 32) and a.tensor.min() >= -1 and a.tensor.max() <= 1
    p = a.params
    assert torch.allclose(draw_circles(**p, size=32), a.tensor)
    white = draw_circles(**{**p, "background": torch.ones(8, 3)}, size=32)
    cx, cy = p["center"][0].long()
    assert torch.allclose(white[0, :, cy, cx], a.tensor[0, :, cy, cx])  # same circle
    assert torch.equal(white[0, :, 0, 0], torch.ones(3))  # new background


def test_augment_shifts_and_flips_per_sample_deterministically():
    x = torch.arange(2 * 36.0).view(2, 1, 6, 6)
    aug = Augment(shift=2, flip=True)
    y1 = aug(x, torch.Generator().manual_seed(0))
    y2 = aug(x, torch.Generator().manual_seed(0))
    assert torch.equal(y1, y2) and y1.shape == x.shape
    outs = [aug(x, torch.Generator().manual_seed(s)) for s in range(150)]
    assert any(not torch.equal(o, x) for o in outs)
    assert any(torch.equal(o[0], x[0].flip(-1)) for o in outs)  # a pure flip happens

    def explained(o, x):  # o is x (maybe flipped) moved by at most 2 pixels each way
        for img in (x, x.flip(-1)):
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    src = img[:, max(dy, 0):6 + min(dy, 0), max(dx, 0):6 + min(dx, 0)]
                    dst = o[:, max(-dy, 0):6 + min(-dy, 0), max(-dx, 0):6 + min(-dx, 0)]
                    if torch.equal(src, dst):
                        return (dy, dx)
        return None

    moves = {explained(o[k], x[k]) for o in outs for k in range(2)}
    assert None not in moves and len(moves) == 25  # every shift in range occurs, no other
    assert torch.equal(Augment(shift=0)(x, None), x)
    assert torch.equal(aug(torch.zeros(5, 3), None), torch.zeros(5, 3))  # not an image


# argument checks: every public constructor names the argument, what it takes, what came

FOLDER = object()  # stands for a folder with one image, made per test
WRONG_ARGUMENTS = [  # (source, kwargs, the message's start, what came)
    (ImageFolder, {"path": FOLDER, "size": 32.0},
     "ImageFolder: size must be a positive whole number (or a (height, width) pair",
     "32.0 (float)"),
    (ImageFolder, {"path": FOLDER, "size": "32"}, "ImageFolder: size must be", "'32' (str)"),
    (ImageFolder, {"path": FOLDER, "size": True}, "ImageFolder: size must be", "True (bool)"),
    (ImageFolder, {"path": FOLDER, "size": (32, 0)}, "ImageFolder: size must be",
     "(32, 0) (tuple)"),
    (ImageFolder, {"path": FOLDER, "channels": 3.0},
     "ImageFolder: channels must be 1 (L), 3 (RGB), 4 (RGBA) or None (from the images)",
     "3.0 (float)"),
    (ImageFolder, {"path": 123}, "ImageFolder: path must be a non-empty str or os.PathLike",
     "123 (int)"),
    (GaussianPrior, {"shape": 2.5}, "GaussianPrior: shape must be a positive whole number",
     "2.5 (float)"),
    (GaussianPrior, {"shape": (2, "a")}, "GaussianPrior: shape must be", "(2, 'a') (tuple)"),
    (GaussianPrior, {"shape": True}, "GaussianPrior: shape must be", "True (bool)"),
    (GaussianPrior, {"shape": 2, "seed": 1.5}, "GaussianPrior: seed must be a whole number",
     "1.5 (float)"),
    (circles, {"n": True}, "circles: n must be a positive whole number", "True (bool)"),
    (circles, {"n": 4, "size": 32.0}, "circles: size must be a positive whole number",
     "32.0 (float)"),
    (circles, {"n": 4, "seed": "a"}, "circles: seed must be a whole number", "'a' (str)"),
    (circles, {"n": 4, "radius": 0.3}, "circles: radius must be a pair (lo, hi)", "0.3 (float)"),
    (circles, {"n": 4, "radius": ("a", 0.3)}, "circles: radius must be", "('a', 0.3) (tuple)"),
    (Circles, {"params": {"center": torch.zeros(1, 2)}, "size": 8},
     "Circles: params must be a dict of tensors with keys background, center",
     "a dict with keys center"),
    (glyphs, {"size": 32.0}, "glyphs: size must be a whole number >= 4", "32.0 (float)"),
    (glyphs, {"font": 3}, "glyphs: font must be a font file's path or the name", "3 (int)"),
    (glyphs, {"chars": ["A"]}, "glyphs: chars must be a non-empty string", "['A'] (list)"),
    (glyphs, {"split": "val"}, "glyphs: split must be 'train', 'test' or None", "'val' (str)"),
    (glyphs, {"split": "test", "holdout": "x"}, "glyphs: holdout must be a number in (0, 1)",
     "'x' (str)"),
    (glyphs, {"seed": 0.5}, "glyphs: seed must be a whole number", "0.5 (float)"),
    (glyphs, {"em": "x"}, "glyphs: em must be a positive number (pixels per em) or None",
     "'x' (str)"),
    (glyphs, {"margin": 0.6}, "glyphs: margin must be a number in [0, 0.5)", "0.6 (float)"),
    (Augment, {"shift": 2.0}, "Augment: shift must be a whole number >= 0", "2.0 (float)"),
    (Augment, {"shift": True}, "Augment: shift must be", "True (bool)"),
    (Augment, {"flip": "yes"}, "Augment: flip must be True or False", "'yes' (str)"),
    (skin_tones, {"size": 8.0}, "skin_tones: size must be a whole number in [4, 72]",
     "8.0 (float)"),
    (skin_tones, {"split": "test", "holdout": None}, "skin_tones: holdout must be a number",
     "None (NoneType)"),
]


@pytest.mark.parametrize("source, kwargs, expected, came", WRONG_ARGUMENTS,
                         ids=[f"{s.__name__}-{list(kw)[-1]}={list(kw.values())[-1]!r}"
                              for s, kw, _, _ in WRONG_ARGUMENTS])
def test_a_wrong_argument_is_a_source_error_naming_it(tmp_path, source, kwargs, expected, came):
    png(tmp_path / "one.png")
    kwargs = {k: tmp_path if v is FOLDER else v for k, v in kwargs.items()}
    with pytest.raises(SourceError) as e:
        source(**kwargs)
    msg = str(e.value)
    assert msg.startswith(expected) and msg.endswith(f"got {came}"), msg
    assert isinstance(e.value, ValueError)  # a SourceError is a RunError is a ValueError


def test_product_refuses_a_factor_that_is_not_a_dataset():
    a = TensorSource(torch.zeros(3))
    for factor, came in ((5, "5 (int)"), ([1, 2, 3], "[1, 2, 3] (list)"),
                         ((x for x in "ab"), "(generator)")):
        with pytest.raises(SourceError, match=r"Product: factor 1 must be a dataset \(an object "
                                              r"with len\(\) and \[i\]") as e:
            Product(a, factor)
        assert came in str(e.value)


def test_whole_numbers_of_numpy_are_accepted_and_normalised(tmp_path):
    png(tmp_path / "one.png", size=(8, 6))
    s = ImageFolder(tmp_path, size=np.int64(4), channels=np.int64(1))
    assert s.shape == (1, 4, 4) and type(s.channels) is int
    assert GaussianPrior((np.int32(2), 3)).shape == (2, 3)
    assert type(Augment(shift=np.int64(1)).shift) is int
