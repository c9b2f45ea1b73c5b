"""Uploaded images: judged by content, stored by hash, upright, without metadata, in sizes."""

import hashlib
import io
import struct
from pathlib import Path

import pytest
from PIL import Image
from PIL import ImageSequence
from PIL import PngImagePlugin

from liveblog.embeds.images import srcset
from liveblog.embeds.uploads import MAX_PIXELS
from liveblog.embeds.uploads import save_image
from liveblog.errors import UploadError
from tests.fakes import image_bytes
from tests.test_embeds import upload

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


def gif_extension(label, *blocks):
    """A GIF extension block: ``label`` (0xFE comment, 0xFF application) and its sub-blocks."""
    return b"!" + bytes([label]) + b"".join(bytes([len(b)]) + b for b in blocks) + b"\0"


def gif_blocks(data):
    """What a GIF is made of, in order: ("extension", label, or an application's name) and
    ("image", offset of its descriptor); and the bytes after its trailer."""

    def after_sub_blocks(position):
        while data[position]:
            position += data[position] + 1
        return position + 1

    def after_colour_table(position, flags):
        return position + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)

    blocks = []
    position = after_colour_table(13, data[10])
    while data[position] != 0x3B:
        if data[position] == 0x21:
            label = data[position + 1]
            name = data[position + 3 : position + 3 + data[position + 2]]
            blocks.append(("extension", name if label == 0xFF else label))
            position = after_sub_blocks(position + 2)
        else:
            assert data[position] == 0x2C
            blocks.append(("image", position))
            position = after_colour_table(position + 10, data[position + 9])
            position = after_sub_blocks(position + 1)  # after the LZW code size
    return blocks, data[position + 1 :]


def frames_of(data):
    """Each frame of an image file as shown (RGBA) and its duration; and the loop count."""
    with Image.open(io.BytesIO(data)) as image:
        frames = [
            (frame.convert("RGBA"), frame.info.get("duration"))  # WebP: duration once loaded
            for frame in ImageSequence.Iterator(image)
        ]
        return frames, image.info.get("loop")


def shown(frame):
    """A frame's pixels, every transparent one alike whatever colour it has underneath."""
    return frame.convert("RGBa").tobytes()


def moving_square(size=(600, 300), colours=("red", "lime", "blue")):
    """Frames of a square moving right over transparency: where it was turns clear again."""
    side = size[1] // 2
    frames = []
    for index, colour in enumerate(colours):
        frame = Image.new("RGBA", size, (0, 0, 0, 0))
        left = index * (size[0] - side) // (len(colours) - 1)
        frame.paste(colour, (left, side // 2, left + side, side // 2 + side))
        frames.append(frame)
    return frames


def animated(fmt, frames, **options):
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], **options)
    return out.getvalue()


def gif_with_comment():
    """A GIF with a script in its comment extension."""
    out = io.BytesIO()
    Image.new("RGB", (600, 300), "teal").save(out, "GIF", comment=SCRIPT)
    data = out.getvalue()
    assert SCRIPT in data and ("extension", 0xFE) in gif_blocks(data)[0]
    return data


def test_a_gif_is_stored_without_its_comment(tmp_path):
    data = gif_with_comment()
    saved = save_image(data, tmp_path)
    assert saved["url"] == f"/media/uploads/{hashlib.sha256(data).hexdigest()}.gif"
    assert saved["sizes"] == [{"url": saved["url"], "width": 600}]
    clean = stored(tmp_path, saved["url"]).read_bytes()
    assert b"<script" not in clean
    blocks, after = gif_blocks(clean)
    assert [kind for kind, _ in blocks] == ["image"] and after == b""
    with Image.open(io.BytesIO(clean)) as copy:
        assert copy.size == (600, 300) and "comment" not in copy.info


def test_a_gif_that_is_also_javascript_is_stored_as_a_gif_only(tmp_path):
    # 10799 pixels wide: the width's bytes are "/*", so in JavaScript the file is GIF87a, then
    # a comment that the script after the image closes.
    out = io.BytesIO()
    Image.new("P", (0x2A2F, 2), 3).save(out, "GIF")
    script = b"*/=alert(1);"
    polyglot = out.getvalue() + script
    assert polyglot[6:8] == b"/*" and polyglot.index(b"*/") == len(out.getvalue())
    saved = save_image(polyglot, tmp_path)
    clean = stored(tmp_path, saved["url"]).read_bytes()
    assert clean != polyglot and b"alert(1)" not in clean
    assert gif_blocks(clean)[1] == b""
    with Image.open(io.BytesIO(clean)) as copy:
        assert copy.size == (0x2A2F, 2)


def test_an_uploaded_gif_is_served_without_its_comment(app, api, client):
    data = gif_with_comment()
    response = upload(api, data, "photo.gif")
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert (saved["width"], saved["height"], saved["type"]) == (600, 300, "image/gif")
    with client.get(saved["url"]) as served:
        assert served.status_code == 200 and served.mimetype == "image/gif"
        assert served.data == stored(Path(app.config["MEDIA_PATH"]), saved["url"]).read_bytes()
        assert served.data != data and b"<script" not in served.data


@pytest.mark.parametrize("loop", [0, None], ids=["for-ever", "once"])
def test_an_animated_gif_is_re_encoded_frame_by_frame(tmp_path, loop):
    data = animated(
        "GIF", moving_square(), duration=[100, 250, 400], disposal=2, comment=SCRIPT, loop=loop
    )
    xmp = gif_extension(0xFF, b"XMP DataXMP", b"<x:xmpmeta>" + SCRIPT + b"</x:xmpmeta>")
    header = 13 + 3 * 2 ** ((data[10] & 7) + 1)  # with its colour table
    data = data[:header] + xmp + data[header:]
    original, original_loop = frames_of(data)
    assert original_loop == loop and len(original) == 3
    assert [duration for _, duration in original] == [100, 250, 400]
    saved = save_image(data, tmp_path)
    assert saved["sizes"] == [{"url": saved["url"], "width": 600}]
    assert srcset(saved["url"], saved["width"]) == ""
    clean = stored(tmp_path, saved["url"]).read_bytes()
    assert clean != data and SCRIPT not in clean and b"XMP" not in clean
    blocks, after = gif_blocks(clean)
    assert {detail for kind, detail in blocks if kind == "extension"} == (
        {0xF9, b"NETSCAPE2.0"} if loop is not None else {0xF9}
    )
    assert after == b""
    frames, stored_loop = frames_of(clean)
    assert stored_loop == loop
    assert [duration for _, duration in frames] == [100, 250, 400]
    assert [shown(frame) for frame, _ in frames] == [shown(frame) for frame, _ in original]


def animation_with_metadata(fmt):
    """A moving square in ``fmt``, 1000 pixels wide, looping three times, with EXIF and XMP
    (WebP) or EXIF and text (PNG) holding a script."""
    exif = Image.Exif()
    exif[MAKE] = SCRIPT.decode()
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", SCRIPT)
    metadata = {
        "WEBP": {"exif": exif, "xmp": b"<x:xmpmeta>" + SCRIPT + b"</x:xmpmeta>"},
        "PNG": {"exif": exif, "pnginfo": text},
    }[fmt]
    frames = moving_square((1000, 400))
    for frame in frames:  # translucent across: else libwebp may store no alpha at all
        frame.paste((255, 255, 255, 128), (0, 380, 1000, 400))
    return animated(fmt, frames, duration=[100, 250, 400], loop=3, **metadata)


@pytest.mark.parametrize(
    ("fmt", "metadata"), [("WEBP", {"exif", "xmp"}), ("PNG", {"exif", "Comment"})]
)
def test_an_animated_webp_or_png_is_re_encoded_frame_by_frame_at_every_size(
    tmp_path, fmt, metadata
):
    data = animation_with_metadata(fmt)
    with Image.open(io.BytesIO(data)) as original:
        assert original.n_frames == 3 and metadata <= set(original.info)
    saved = save_image(data, tmp_path)
    assert [size["width"] for size in saved["sizes"]] == [480, 960, 1000]
    for size in saved["sizes"]:
        copy = stored(tmp_path, size["url"]).read_bytes()
        assert copy != data and SCRIPT not in copy
        with Image.open(io.BytesIO(copy)) as image:
            assert image.format == fmt and image.width == size["width"]
            assert not metadata & set(image.info)
        frames, loop = frames_of(copy)
        assert loop == 3 and [duration for _, duration in frames] == [100, 250, 400]
        scale = size["width"] / 1000
        squares = [(round(x * scale), round(200 * scale)) for x in (100, 500, 900)]
        for index, (frame, _) in enumerate(frames):
            # The frame's own square is shown, and the one before has been cleared away.
            red, green, blue, alpha = frame.getpixel(squares[index])
            assert alpha == 255 and max(red, green, blue) > 200
            assert frame.getpixel(squares[index - 1])[3] == 0


def test_an_animation_is_stored_upright(tmp_path):
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    frames = [Image.new("RGB", (300, 200), colour) for colour in ("red", "lime", "blue")]
    for frame in frames:
        frame.paste("white", (0, 0, 30, 30))  # top left as stored: top right when shown
    data = animated("WEBP", frames, duration=100, exif=exif.tobytes())
    saved = save_image(data, tmp_path)
    assert (saved["width"], saved["height"]) == (200, 300)
    frames, _ = frames_of(stored(tmp_path, saved["url"]).read_bytes())
    assert [frame.size for frame, _ in frames] == [(200, 300)] * 3
    assert all(min(frame.getpixel((185, 15))[:3]) > 200 for frame, _ in frames)


def test_an_apng_default_image_is_left_out(tmp_path):
    frames = [Image.new("RGB", (300, 200), colour) for colour in ("white", "red", "blue")]
    data = animated("PNG", frames, duration=[250, 400], loop=0, default_image=True)
    with Image.open(io.BytesIO(data)) as original:
        assert original.n_frames == 3 and original.info["default_image"]
    saved = save_image(data, tmp_path)
    frames, loop = frames_of(stored(tmp_path, saved["url"]).read_bytes())
    assert loop == 0
    assert [(frame.getpixel((0, 0)), duration) for frame, duration in frames] == [
        ((255, 0, 0, 255), 250),
        ((0, 0, 255, 255), 400),
    ]


def test_a_gif_frame_past_the_edges_is_cut_off(tmp_path):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "red", "blue")]
    frames[1].paste("lime", (0, 0, 4, 4))
    data = bytearray(animated("GIF", frames, duration=100, loop=0))
    second = [offset for kind, offset in gif_blocks(data)[0] if kind == "image"][1]
    assert data[second + 1 : second + 9] == struct.pack("<4H", 0, 0, 4, 4)
    data[second + 1 : second + 5] = struct.pack("<2H", 18, 18)  # 4×4 at (18, 18): 2 past
    with Image.open(io.BytesIO(data)) as original:
        assert [frame.size for frame in ImageSequence.Iterator(original)][1] == (22, 22)
    saved = save_image(bytes(data), tmp_path)
    assert (saved["width"], saved["height"]) == (20, 20)
    frames, _ = frames_of(stored(tmp_path, saved["url"]).read_bytes())
    assert [frame.size for frame, _ in frames] == [(20, 20)] * 3


def test_an_animation_with_too_many_pixels_in_all_is_refused(tmp_path):
    frames = [Image.new("RGB", (1, 1), (red, 0, 0)) for red in range(0, 260, 20)]
    data = bytearray(animated("GIF", frames, duration=100))
    data[6:10] = struct.pack("<2H", 2000, 2000)  # 13 dots, each on a screen of 4 million pixels
    with Image.open(io.BytesIO(data)) as original:
        assert original.n_frames == 13 and original.size == (2000, 2000)
    with pytest.raises(UploadError) as caught:
        save_image(bytes(data), tmp_path)
    assert caught.value.status == 422
    assert caught.value.detail == (
        f"The animation has more than {MAX_PIXELS // 1_000_000} million pixels in all its"
        " frames; make it smaller or shorter."
    )
    assert not (tmp_path / "uploads").exists()


def test_an_animation_with_a_damaged_frame_is_refused(tmp_path):
    data = animated("GIF", moving_square(), duration=100)
    last = [offset for kind, offset in gif_blocks(data)[0] if kind == "image"][-1]
    with pytest.raises(UploadError) as caught:
        save_image(data[: last + 40], tmp_path)
    assert caught.value.status == 422 and "damaged or incomplete" in caught.value.detail


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
