"""Uploaded images: checked by their content, stored by their hash, in responsive sizes. No Flask.

Each upload is stored once under ``<media>/uploads/<sha256>.<ext>``, the hash of the bytes
sent (the same file uploaded twice is the same upload), beside narrower copies
``<sha256>-<width>w.<ext>`` for ``srcset`` (GIFs have none). Every file stored is a new
encoding, upright and without metadata: a photo's EXIF can say where it was taken, and by
whom, and a comment or bytes after the image can make a file that is also a script (a
GIF that parses as JavaScript). Animations keep their frames, durations and loop count, at
every size.
"""

import hashlib
import io
import itertools
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image
from PIL import ImageOps
from PIL import ImageSequence
from PIL import UnidentifiedImageError

from ..errors import UnsupportedUpload
from ..errors import UploadError
from .images import UPLOAD_FILE
from .images import URL_PREFIX
from .images import WIDTHS
from .images import upload_name

# Pillow format -> (file extension, media type)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_PIXELS = 50_000_000


def save_image(data: bytes, media_path: Path | str) -> dict[str, Any]:
    """Check ``data`` is a JPEG, PNG, WebP or GIF image and store it with its smaller sizes.

    Returns what an image block needs: ``url``, ``width``, ``height``, ``type`` and ``sizes``.
    """
    picture = _open(data)
    extension, media_type = FORMATS[picture.format]
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(media_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.{extension}"
    if not target.exists():
        _write(target, _encode(picture, extension))
    width, height = picture.frames[0].size
    sizes = []
    if extension != "gif":
        for narrower in (w for w in WIDTHS if w < width):
            variant = folder / f"{digest}-{narrower}w.{extension}"
            if not variant.exists():
                _write(variant, _encode(picture.resized(narrower), extension))
            sizes.append({"url": f"{URL_PREFIX}{variant.name}", "width": narrower})
    url = f"{URL_PREFIX}{target.name}"
    return {
        "url": url,
        "width": width,
        "height": height,
        "type": media_type,
        "sizes": [*sizes, {"url": url, "width": width}],
    }


def stored_size(url: str, media_path: Path | str) -> tuple[int, int] | None:
    """The width and height of the upload stored at ``url``; None when there is none."""
    name = upload_name(url)
    path = Path(media_path) / "uploads" / name if name else None
    if path is None or not path.is_file():
        return None
    with Image.open(path) as image:
        return image.size


def store_copy(name: str, data: bytes, media_path: Path | str) -> Path | None:
    """Store a file of another Liveblog's uploads under the ``name`` it had there (from an
    export archive), checked and encoded anew as every upload is; None when this one has
    it already. Returns the file written, for the caller to remove if the import fails."""
    found = UPLOAD_FILE.fullmatch(name)
    if found is None:
        raise UploadError(f"{name!r} is not the name of an uploaded file.")
    folder = Path(media_path) / "uploads"
    target = folder / name
    if target.exists():
        return None
    picture = _open(data)
    extension = FORMATS[picture.format][0]
    if extension != found.group(3):
        raise UploadError(
            f"{name} holds a {extension} image, not the {found.group(3)} its name says."
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write(target, _encode(picture, extension))
    return target


@dataclass
class _Picture:
    """An upload decoded: its frames (one for a still image) and how they are shown."""

    format: str
    frames: list[Image.Image]
    """Upright and bare (see ``_bare``); each the whole picture as shown at its time."""
    durations: list[float]
    """How long each frame is shown, in milliseconds."""
    loop: int | None
    """How many times an animation plays, 0 for ever; None for a GIF that plays once."""
    icc_profile: bytes | None

    def resized(self, width: int) -> "_Picture":
        """The same picture ``width`` pixels wide, every frame resized."""
        return replace(self, frames=[_resized(frame, width) for frame in self.frames])


def _open(data: bytes) -> _Picture:
    """The image in ``data``, every frame decoded, or an UploadError saying what is wrong."""
    kinds = "a JPEG, PNG, WebP or GIF image"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width * image.height > MAX_PIXELS:
                raise UploadError(_too_many_pixels())
            return _decode(image)
        except UnidentifiedImageError:
            raise UnsupportedUpload(f"The file is not {kinds} (judged by its content).") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(_too_many_pixels()) from None
        except _BROKEN as error:
            raise _damaged(error) from None


def _decode(image: Image.Image) -> _Picture:
    """Every frame of ``image``, as long as all of them have at most MAX_PIXELS together."""
    picture = _Picture(
        format=image.format or "",
        frames=[],
        durations=[],
        loop=image.info.get("loop"),
        icc_profile=image.info.get("icc_profile"),
    )
    pixels = 0
    # An APNG's default image is for viewers that cannot animate: the first frame will do.
    first = 1 if image.info.get("default_image") and getattr(image, "is_animated", False) else 0
    for frame in itertools.islice(ImageSequence.Iterator(image), first, None):
        pixels += frame.width * frame.height  # known before the frame is decoded
        if pixels > MAX_PIXELS:
            raise UploadError(
                f"The animation has more than {MAX_PIXELS // 1_000_000} million pixels in all"
                " its frames; make it smaller or shorter."
            )
        upright = ImageOps.exif_transpose(frame)  # a decoded copy
        if picture.frames and upright.size != picture.frames[0].size:
            # A GIF's frame may reach past the image's edges; browsers cut it off there.
            upright = upright.crop((0, 0, *picture.frames[0].size))
        picture.frames.append(_bare(upright))
        picture.durations.append(frame.info.get("duration", 0))  # WebP: known once decoded
    return picture


def _bare(image: Image.Image) -> Image.Image:
    """``image`` with its metadata dropped, in place: Pillow's writers take some from ``info``
    (a JPEG's or GIF's comment, an APNG's default image and frame settings).

    What the pixels need stays: a palette image's transparent colour (the colour profile
    is the whole image's, in ``_Picture``).
    """
    image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    return image


# What Pillow raises on a damaged file (the exceptions its own fuzzing accepts).
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error)


def _damaged(error: Exception) -> UploadError:
    return UploadError(f"The image is damaged or incomplete ({error}).")


def _too_many_pixels() -> str:
    return f"The image has more than {MAX_PIXELS // 1_000_000} million pixels; make it smaller."


def _encode(picture: _Picture, extension: str) -> bytes:
    """``picture`` as a new file: no EXIF, XMP, text or comments; the colour profile is kept."""
    first, *others = picture.frames
    options: dict[str, Any] = {}
    if picture.icc_profile:
        options["icc_profile"] = picture.icc_profile
    if others:
        options.update(
            save_all=True, append_images=others, duration=picture.durations, loop=picture.loop
        )
    out = io.BytesIO()
    if extension == "jpg":
        if first.mode not in ("RGB", "L"):
            first = first.convert("RGB")
        first.save(out, "JPEG", quality=86, optimize=True, progressive=True, **options)
    elif extension == "png":
        first.save(out, "PNG", optimize=True, **options)
    elif extension == "webp":
        first.save(out, "WEBP", quality=86, **options)
    else:
        if others and any(frame.has_transparency_data for frame in picture.frames):
            # Pillow writes of each whole frame what changed since the one before, drawn
            # over it, and a pixel that turns transparent cannot be drawn: so each frame is
            # cleared away (to transparent) and the next one written whole.
            options["disposal"] = 2
        first.save(out, "GIF", **options)
    return out.getvalue()


def _resized(image: Image.Image, width: int) -> Image.Image:
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _write(path: Path, data: bytes) -> None:
    """Write aside, then move into place: a reader never gets half a file."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(draft, 0o644)
        os.replace(draft, path)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
