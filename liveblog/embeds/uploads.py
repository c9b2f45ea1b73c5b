"""Uploaded images: checked by their content, stored by their hash, in responsive sizes. No Flask.

Each upload is stored once under ``<media>/uploads/<sha256>.<ext>`` (the same file uploaded
twice is the same upload), beside narrower copies ``<sha256>-<width>w.<ext>`` for
``srcset`` (GIFs have none). Still images are re-encoded, upright and without their
metadata: a photo's EXIF can say where it was taken, and by whom. Animations are kept as
they came.
"""

import hashlib
import io
import os
import struct
import tempfile
import warnings
from pathlib import Path
from typing import Any

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from ..errors import UnsupportedUpload
from ..errors import UploadError
from .images import URL_PREFIX
from .images import WIDTHS

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
    image = _open(data)
    extension, media_type = FORMATS[image.format or ""]
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(media_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.{extension}"
    animated = bool(getattr(image, "is_animated", False))
    kept = animated or extension == "gif"
    if not kept:
        image = _bare(ImageOps.exif_transpose(image))
    if not target.exists():
        _write(target, data if kept else _encode(image, extension))
    width, height = image.size
    sizes = []
    if extension != "gif":
        for narrower in (w for w in WIDTHS if w < width):
            variant = folder / f"{digest}-{narrower}w.{extension}"
            if not variant.exists():
                # An animation keeps every frame at every size: the browser scales it.
                _write(variant, data if animated else _resized(image, narrower, extension))
            sizes.append({"url": f"{URL_PREFIX}{variant.name}", "width": narrower})
    url = f"{URL_PREFIX}{target.name}"
    return {
        "url": url,
        "width": width,
        "height": height,
        "type": media_type,
        "sizes": [*sizes, {"url": url, "width": width}],
    }


def _open(data: bytes) -> Image.Image:
    """The image in ``data``, fully decoded, or an UploadError saying what is wrong."""
    kinds = "a JPEG, PNG, WebP or GIF image"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except UnidentifiedImageError:
            raise UnsupportedUpload(f"The file is not {kinds} (judged by its content).") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(_too_many_pixels()) from None
        except _BROKEN as error:
            raise _damaged(error) from None
    if image.width * image.height > MAX_PIXELS:
        raise UploadError(_too_many_pixels())
    try:
        image.load()
    except _BROKEN as error:
        raise _damaged(error) from None
    return image


def _bare(image: Image.Image) -> Image.Image:
    """``image`` with its metadata dropped, in place: Pillow writes some back (a JPEG's comment).

    What the pixels need stays: the colour profile, a palette image's transparent colour.
    """
    image.info = {
        key: image.info[key] for key in ("icc_profile", "transparency") if key in image.info
    }
    return image


# What Pillow raises on a damaged file (the exceptions its own fuzzing accepts).
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error)


def _damaged(error: Exception) -> UploadError:
    return UploadError(f"The image is damaged or incomplete ({error}).")


def _too_many_pixels() -> str:
    return f"The image has more than {MAX_PIXELS // 1_000_000} million pixels; make it smaller."


def _encode(image: Image.Image, extension: str) -> bytes:
    """``image`` as a new file: no EXIF, no comments; the colour profile is kept."""
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if extension == "jpg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=86, optimize=True, progressive=True, **options)
    elif extension == "png":
        image.save(out, "PNG", optimize=True, **options)
    else:
        image.save(out, "WEBP", quality=86, **options)
    return out.getvalue()


def _resized(image: Image.Image, width: int, extension: str) -> bytes:
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    height = max(1, round(image.height * width / image.width))
    return _encode(image.resize((width, height), Image.Resampling.LANCZOS), extension)


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
