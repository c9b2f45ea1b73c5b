"""Uploaded images: judged by content, stored by hash, upright, without metadata, in sizes."""

import io

import pytest
from PIL import Image
from PIL import PngImagePlugin

from liveblog.embeds.images import srcset
from liveblog.embeds.uploads import MAX_PIXELS
from liveblog.embeds.uploads import save_image
from liveblog.errors import UploadError
from tests.fakes import image_bytes

MAKE = 0x010F
ORIENTATION = 0x0112
GPS = 0x8825
SCRIPT = b"<script>alert(1)</script>"


def stored(media, url):
    return media / url.removeprefix("/media/")


def photo_with_exif(size=(1000, 600)):
    """A JPEG as a phone writes it: camera, place and 'rotate 90° to view' in its EXIF."""
    exif = Image.Exif()
    exif[MAKE] = "Phone"
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS).update({1: "N", 2: (35.0, 12.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", size, "olive").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "extension", "media_type"),
    [("JPEG", "jpg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")],
)
def test_still_images_are_stored_with_narrower_copies(tmp_path, fmt, extension, media_type):
    saved = save_image(image_bytes((1700, 850), fmt), tmp_path)
    assert saved["url"].endswith(f".{extension}") and saved["type"] == media_type
    assert (saved["width"], saved["height"]) == (1700, 850)
    assert [size["width"] for size in saved["sizes"]] == [480, 960, 1600, 1700]
    for size in saved["sizes"]:
        with Image.open(stored(tmp_path, size["url"])) as copy:
            assert copy.format == fmt and copy.width == size["width"]
            assert copy.height == round(850 * size["width"] / 1700)


def test_a_photo_is_stored_upright_and_without_its_metadata(tmp_path):
    saved = save_image(photo_with_exif(), tmp_path)
    assert (saved["width"], saved["height"]) == (600, 1000)
    for size in saved["sizes"]:
        with Image.open(stored(tmp_path, size["url"])) as copy:
            assert dict(copy.getexif()) == {}
            assert copy.height > copy.width
    original = photo_with_exif()
    assert b"Phone" in original
    assert all(b"Phone" not in stored(tmp_path, s["url"]).read_bytes() for s in saved["sizes"])


def still_with_metadata(fmt):
    """A still image carrying a script in every kind of metadata Pillow writes for ``fmt``."""
    exif = Image.Exif()
    exif[MAKE] = SCRIPT.decode()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SCRIPT + b"</x:xmpmeta>"
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", SCRIPT)
    text.add_itxt("XML:com.adobe.xmp", xmp.decode())
    metadata = {
        "JPEG": {"comment": SCRIPT, "exif": exif, "xmp": xmp},
        "PNG": {"pnginfo": text, "exif": exif},
        "WEBP": {"exif": exif, "xmp": xmp},
    }[fmt]
    out = io.BytesIO()
    Image.new("RGB", (1000, 600), "olive").save(out, fmt, **metadata)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "metadata"),
    [
        ("JPEG", {"comment", "exif", "xmp"}),
        ("PNG", {"Comment", "exif", "xmp"}),
        ("WEBP", {"exif", "xmp"}),
    ],
    ids=["JPEG", "PNG", "WEBP"],
)
def test_still_images_keep_no_comment_text_exif_or_xmp(tmp_path, fmt, metadata):
    data = still_with_metadata(fmt)
    with Image.open(io.BytesIO(data)) as original:
        assert metadata <= set(original.info)
    saved = save_image(data, tmp_path)
    for size in saved["sizes"]:
        assert SCRIPT not in stored(tmp_path, size["url"]).read_bytes()
        with Image.open(stored(tmp_path, size["url"])) as copy:
            assert copy.format == fmt and not metadata & set(copy.info)


def test_animations_are_kept_as_they_came(tmp_path):
    out = io.BytesIO()
    frames = [Image.new("P", (600, 300), color) for color in (1, 2, 3)]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    saved = save_image(out.getvalue(), tmp_path)
    assert stored(tmp_path, saved["url"]).read_bytes() == out.getvalue()
    assert saved["sizes"] == [{"url": saved["url"], "width": 600}]
    assert srcset(saved["url"], saved["width"]) == ""


def test_the_same_upload_twice_is_one_file(tmp_path):
    data = image_bytes((500, 500), "PNG")
    first = save_image(data, tmp_path)
    path = stored(tmp_path, first["url"])
    written = path.stat().st_mtime_ns
    assert save_image(data, tmp_path) == first
    assert path.stat().st_mtime_ns == written
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == sorted(
        s["url"].rsplit("/", 1)[1] for s in first["sizes"]
    )


def test_an_image_with_too_many_pixels_is_refused(tmp_path):
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UploadError) as caught:
        save_image(out.getvalue(), tmp_path)
    assert caught.value.status == 422
    assert caught.value.detail == (
        f"The image has more than {MAX_PIXELS // 1_000_000} million pixels; make it smaller."
    )
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


@pytest.mark.parametrize(
    ("url", "width", "expected"),
    [
        (
            "/media/uploads/" + "a" * 64 + ".jpg",
            1000,
            f"/media/uploads/{'a' * 64}-480w.jpg 480w, /media/uploads/{'a' * 64}-960w.jpg 960w, "
            f"/media/uploads/{'a' * 64}.jpg 1000w",
        ),
        ("/media/uploads/" + "a" * 64 + ".jpg", 400, ""),
        ("/media/uploads/" + "a" * 64 + ".jpg", None, ""),
        ("/media/other/" + "a" * 64 + ".jpg", 1000, ""),
        ("https://example.org/uploads/" + "a" * 64 + ".jpg", 1000, ""),
    ],
)
def test_srcset_names_the_stored_sizes_of_uploads_only(url, width, expected):
    assert srcset(url, width) == expected
