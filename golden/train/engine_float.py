"""The float32 reference: the same network, data, masks and schedule, trained by PyTorch.

Parameters keep the fixed engine's layout (kernels (K, Cout) with rows in (ky, kx, cin) order,
feature maps flattened in (y, x, channel) order before dense1), so the two engines hand their
state to each other exactly (``two-phase-float`` switches engines mid-run). Dropout is the same
classic dropout: masks while training, activations scaled by the keep probability (folded into
the next layer's weights) when evaluating.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .network import INPUT_FRAC, INPUT_OFFSET, LAYERS, MasterParams, gemm_shapes
from .optim import float_update

FLOAT_WIDTH = 32


class FloatEngine:
    def __init__(self, device=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def upload(self, master):
        w, b, vw, vb = master.as_float()
        t = lambda xs: [torch.tensor(x, dtype=torch.float32, device=self.device) for x in xs]  # noqa: E731
        self.w, self.b, self.vw, self.vb = t(w), t(b), t(vw), t(vb)
        self.w_frac, self.b_frac = list(master.w_frac), list(master.b_frac)

    def download(self):
        h = lambda xs: [x.detach().cpu().numpy() for x in xs]  # noqa: E731
        return MasterParams.from_float(h(self.w), h(self.b), h(self.vw), h(self.vb),
                                       w_frac=self.w_frac, b_frac=self.b_frac)

    def float_arrays(self):
        out = {}
        for i in range(len(LAYERS)):
            for name in ("w", "b", "vw", "vb"):
                out[f"{name}{i}"] = getattr(self, name)[i].detach().cpu().numpy()
        return out

    def load_float_arrays(self, arrays, *, w_frac, b_frac):
        t = lambda name: [torch.tensor(np.asarray(arrays[f"{name}{i}"]), device=self.device)  # noqa: E731
                          for i in range(len(LAYERS))]
        self.w, self.b, self.vw, self.vb = t("w"), t("b"), t("vw"), t("vb")
        self.w_frac, self.b_frac = list(w_frac), list(b_frac)

    def _forward(self, images, params, masks=None, train=True):
        w, b = params
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        x = ((x.to(torch.float32) - INPUT_OFFSET) / (1 << INPUT_FRAC)).permute(0, 3, 1, 2)
        mask_iter = iter(masks or [])
        keep = None
        for i, layer in enumerate(LAYERS):
            wi = w[i] if keep is None else w[i] * (keep[0] / (1 << keep[1]))
            keep = None
            if layer.kind == "conv":
                kernel = wi.reshape(3, 3, layer.cin, layer.cout).permute(3, 2, 0, 1)
                x = F.conv2d(x, kernel, b[i], padding=layer.pad)
            else:
                if x.dim() == 4:
                    x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
                x = torch.addmm(b[i], x, wi)
            if layer.relu:
                x = F.relu(x)
            if layer.pool:
                x = F.max_pool2d(x, 2)
            if layer.dropout:
                if train:
                    m = torch.from_numpy(next(mask_iter)).to(self.device)
                    x = x * (m.permute(0, 3, 1, 2) if m.dim() == 4 else m)
                else:
                    keep = layer.dropout[1]
        return x

    def step(self, images, labels, masks, lr, stats):
        params = [p.requires_grad_(True) for p in self.w], [p.requires_grad_(True) for p in self.b]
        logits = self._forward(images, params, masks)
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(self.device)
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, self.w + self.b)
        with torch.no_grad():
            for p, v, g in zip(self.w + self.b, self.vw + self.vb, grads):
                p.requires_grad_(False)
                float_update(p, v, g, lr=lr)
        for _, _, m, k, n in gemm_shapes(images.shape[0]):
            stats.macs[FLOAT_WIDTH] += m * k * n
            stats.bits[FLOAT_WIDTH] += (m * k + k * n + m * n) * FLOAT_WIDTH
        return float(loss.detach())

    def predict(self, images):
        with torch.no_grad():
            logits = self._forward(images, (self.w, self.b), train=False)
        return logits.argmax(dim=1).cpu().numpy()
