"""One training step and the evaluation of the network in fixed point (docs/training.md).

Every conv and dense layer runs three contract GEMMs — forward, backward-data, backward-weight —
on the backend as a contract job (``gemms.GemmTask`` made a ``golden.GemmSpec``; ``accumulate``
then ``requantize_inplace``: exactly ``backend.gemm``, split so that the accumulator's maximum
can be observed before the policy picks the output's shift). Everything between them is a host
op from ``golden.train.hostops``. Formats: per (layer, role) a width chosen by the policy and fraction bits
chosen either from the tensor's exact maximum (inputs, weights, the loss gradient: the host has
the values before it quantizes them) or predicted by the policy's exponent rule (every GEMM
output: the accelerator needs its shift before the accumulator exists).
"""

import numpy as np

from ..backend_numpy import NumpyBackend
from ..contract import GemmSpec
from ..formats import Q, Rounding
from .batches import job_seed
from .gemms import Conv, ConvWeight, GemmTask, Matmul, StepRun, count_job
from .hostops import host_ops
from .network import INPUT_FRAC, INPUT_OFFSET, LAYERS, LOGITS
from .optim import fixed_update

RNE, SR = Rounding.NEAREST_EVEN, Rounding.STOCHASTIC
# Rounding of each GEMM's result: stochastic for the weight gradients (small updates must not
# vanish on average), to nearest for activations and errors.
ROUNDING = {"forward": RNE, "backward_data": RNE, "backward_weight": SR}
HIST_LO, HIST_HI = 1, 54  # frexp exponents of nonzero integers below 2**53


def _bound(known_max, fmt):
    """A bound of |v| for v in ``fmt``: the exact maximum when known, else 2**(W-1)."""
    return (1 << (fmt.width - 1)) if known_max is None else max(int(known_max), 1)


def _add_bias(y, b):
    """``y + b`` in y's memory (the requantized output, which the caller gave up) when that
    keeps b's dtype: a float64 map of 2**25 bytes or more is fresh memory the system must map
    again on each allocation (measured: 30 ms for 33 MB against 2 ms for 31 MB)."""
    if y.dtype.itemsize >= b.dtype.itemsize:
        y += b
        return y
    return y + b


def frac_for_max(max_int, src_frac, width):
    """Fraction bits that fit an exact maximum ``max_int * 2**-src_frac`` into ``width`` bits:
    the largest F with max_int * 2**(F - src_frac) < 2**(width-1)."""
    return src_frac + width - 1 - int(max_int).bit_length()


class FixedEngine:
    """Runs steps on ``backend`` ("numpy" or "torch" object from ``golden.backends``)."""

    def __init__(self, backend, *, seed):
        self.be = backend
        self.ops = host_ops(backend)
        self.seed = seed
        self.rounding = dict(ROUNDING)  # a policy may choose another rounding per GEMM kind
        self.host = NumpyBackend()

    # -- parameters -------------------------------------------------------------------------
    def upload(self, master):
        """Master parameters (NumPy int64) onto the backend."""
        ops = self.ops
        self.w = [ops.from_host(x) for x in master.w]
        self.b = [ops.from_host(x) for x in master.b]
        self.vw = [ops.from_host(x) for x in master.vw]
        self.vb = [ops.from_host(x) for x in master.vb]
        self.w_frac, self.b_frac = list(master.w_frac), list(master.b_frac)

    def download(self):
        from .network import MasterParams
        h = self.ops.to_host
        return MasterParams(w=[h(x) for x in self.w], b=[h(x) for x in self.b],
                            vw=[h(x) for x in self.vw], vb=[h(x) for x in self.vb],
                            w_frac=list(self.w_frac), b_frac=list(self.b_frac))

    def quantize_weights(self, i, width, stats=None, *, keep=None):
        """Kernel i in Q(width, F) with F from its exact maximum; ``keep`` = (num, exp) scales
        it by num/2**exp first (evaluation after dropout), exactly."""
        ops = self.ops
        w, frac = self.w[i], self.w_frac[i]
        if keep is not None and keep != (1, 0):
            w, frac = w * keep[0], frac + keep[1]
        f = frac_for_max(ops.int_abs_max(w), frac, width)
        q, sat = ops.saturate(ops.round_shift(w, frac - f), width)
        if stats is not None:
            stats.formats[(LAYERS[i].name, "weights")] = str(Q(width, f))
            stats.count((LAYERS[i].name, "weights"), saturated=sat,
                        underflow=ops.nonzero(w) - ops.nonzero(q), count=ops.size(w))
        return ops.f32(q), Q(width, f)

    def _bias(self, i, out_fmt):
        """Bias i in the output's format, clamped to ±2**W: a W-bit output plus it saturates to
        W bits exactly as it would with the unclamped bias, and for W <= 22 the sum (below
        3 * 2**(W-1)) is exact in float32, so a float32 output stays float32."""
        ops, w = self.ops, out_fmt.width
        b, _ = ops.clamp_int(ops.round_shift(self.b[i], self.b_frac[i] - out_fmt.frac), 1 << w)
        return ops.f32(b) if w <= 22 else ops.f64(b)

    # -- one GEMM through the contract ---------------------------------------------------------
    def _gemm(self, task, run):
        """Runs ``task`` as a contract job on the backend; returns its output and the job's
        ``GemmSpec`` (the output's fraction bits predicted by ``run.exponents`` from the exact
        accumulator, the rounding of its kind, its seed), which ``run.jobs`` collects."""
        acc = task.operands.accumulate(self.be, a_bound=_bound(task.a_max, task.a_fmt),
                                       b_bound=_bound(task.b_max, task.b_fmt))
        acc_frac = task.a_fmt.frac + task.b_fmt.frac
        amax = self.ops.abs_max(acc)
        e = amax.bit_length() - acc_frac if amax else None
        spec = GemmSpec(a_fmt=task.a_fmt, b_fmt=task.b_fmt,
                        out_fmt=Q(task.out_width, run.exponents.predict(task.out_key,
                                                                        task.out_width, e)),
                        rounding=self.rounding[task.kind],
                        seed=job_seed(self.seed, run.step, task.layer, task.kind))
        if run.histograms and task.kind == "backward_weight":
            counts = self.ops.exponent_histogram(acc, HIST_LO, HIST_HI)
            run.stats.histograms[task.out_key] = (counts, HIST_LO - acc_frac)
        y, sat, unf = self.be.requantize_inplace(acc, spec.shift, spec.out_fmt.width,
                                                 spec.rounding, spec.seed, acc_abs_max=amax)
        if run.stats is not None:
            count_job(run.stats, task, spec, sat, unf, e, amax, acc_frac)
        if run.jobs is not None:
            run.jobs.append((task, spec))
        return y, spec.out_fmt

    # -- forward ----------------------------------------------------------------------------
    def _input(self, images, width, stats):
        """uint8 pixels p, as (p - 128) / 128, to Q(width, F) with F from the batch's extremes
        (the largest F with hi * 2**(F-7) < 2**(width-1) and lo * 2**(F-7) >= -2**(width-1)),
        nearest-even."""
        x = images.astype(np.float64) - INPUT_OFFSET
        f = frac_for_max(max(int(images.max()) - INPUT_OFFSET, INPUT_OFFSET - 1 - int(images.min())),
                         INPUT_FRAC, width)
        flat = x.reshape(-1, x.shape[-1])
        q, sat, _ = self.host.requantize(flat, INPUT_FRAC - f, width, RNE, 0)
        unf = int(np.count_nonzero(x)) - int(np.count_nonzero(q))
        if stats is not None:
            stats.formats[(LAYERS[0].name, "activations")] = str(Q(width, f))
            stats.count((LAYERS[0].name, "activations"), saturated=sat, underflow=unf,
                        count=q.size)
        return self.ops.from_host(q.reshape(images.shape).astype(np.float32)), Q(width, f)

    def forward(self, images, widths, run, *, masks=None, train=True):
        """Logits (float64 integers on the backend) and their format; with ``train`` it keeps
        what backward needs and applies the dropout ``masks`` (bool, host NumPy)."""
        ops, stats = self.ops, run.stats
        x, x_fmt = self._input(images, widths[(LAYERS[0].name, "activations")], stats)
        self.cache = []
        self.wq = []
        mask_iter = iter(masks or [])
        keep_next = None
        for i, layer in enumerate(LAYERS):
            wq, w_fmt = self.quantize_weights(i, widths[(layer.name, "weights")],
                                              stats if train else None,
                                              keep=None if train else keep_next)
            nxt = LAYERS[i + 1].name if i + 1 < len(LAYERS) else LOGITS
            out_width = widths[(nxt, "activations")]
            # Exact maxima of the operands (im2col only adds zeros): tighter bounds than the
            # formats', so fewer K-chunks; backward reuses them.
            x_max, w_max = ops.abs_max(x), ops.abs_max(wq)
            if layer.kind == "conv":
                x_in, operands = x, Conv(x, wq, layer.pad)
            else:
                x_in = x.reshape(x.shape[0], -1)
                operands = Matmul(x_in, wq)
            y, out_fmt = self._gemm(GemmTask("forward", layer.name, operands, x_fmt, w_fmt,
                                             out_width, (nxt, "activations"), x_max, w_max), run)
            y, sat = ops.saturate(_add_bias(y, self._bias(i, out_fmt)), out_width)
            if stats is not None:
                stats.count((nxt, "activations"), saturated=sat, underflow=0, count=0)
            if layer.kind == "conv":
                y = y.reshape(x.shape[0], *operands.out_hw, layer.cout)
            entry = {"x": x_in, "x_fmt": x_fmt, "w_fmt": w_fmt, "wq": wq, "in_shape": x.shape,
                     "x_max": x_max, "w_max": w_max}
            if layer.relu:
                y = ops.relu(y)
                if layer.pool:
                    entry["pre_pool"] = y.shape
                    y, entry["route"] = ops.maxpool(y)
                else:
                    entry["relu"] = ops.positive(y)
            keep_next = None
            if layer.dropout:
                if train:
                    entry["mask"] = ops.from_host(next(mask_iter))
                    y = ops.mask(y, entry["mask"])
                else:
                    keep_next = layer.dropout[1]
            if train:
                self.cache.append(entry)
            x, x_fmt = (ops.f32(y) if i + 1 < len(LAYERS) else y), out_fmt
        return x, x_fmt

    # -- loss -------------------------------------------------------------------------------
    def loss_gradient(self, logits, fmt, labels, width, stats, step):
        """Softmax cross-entropy in float64 NumPy on the host (the one float op), and its
        gradient (softmax - onehot) / batch quantized stochastically to Q(width, F), F from its
        exact maximum. Returns (mean loss, gradient on the backend, its format)."""
        z = np.ldexp(self.ops.to_host(logits).astype(np.float64), -fmt.frac)
        loss, grad = softmax_xent(z, labels)
        gmax = np.abs(grad).max()
        f = width - 1 - (int(np.frexp(gmax)[1]) if gmax > 0 else 0)
        q, sat, unf = self.host.quantize(grad, frac=f, width=width, rounding=SR,
                                         seed=job_seed(self.seed, step, LOGITS, "loss"))
        stats.count((LAYERS[-1].name, "errors"), saturated=sat, underflow=unf, count=q.size)
        stats.formats[(LAYERS[-1].name, "errors")] = str(Q(width, f))
        return loss, self.ops.from_host(q.astype(np.float32)), Q(width, f)

    # -- backward and update ------------------------------------------------------------------
    def backward(self, e, e_fmt, widths, run):
        """Gradients of every layer from the output error; returns [(dW, frac), (db, frac)]."""
        ops = self.ops
        grads = [None] * len(LAYERS)
        for i in reversed(range(len(LAYERS))):
            layer, entry = LAYERS[i], self.cache[i]
            e2 = e.reshape(-1, layer.cout)
            e_max = ops.abs_max(e2)
            x_in = entry["x"]
            operands = (ConvWeight(x_in, e2, layer.pad) if layer.kind == "conv"
                        else Matmul(ops.transpose(x_in), e2))
            dw, dw_fmt = self._gemm(GemmTask("backward_weight", layer.name, operands,
                                             entry["x_fmt"], e_fmt, widths[(layer.name, "updates")],
                                             (layer.name, "updates"), entry["x_max"], e_max), run)
            grads[i] = (dw, dw_fmt.frac, ops.col_sum(e2), e_fmt.frac)
            if i == 0:
                break
            prev = LAYERS[i - 1]
            out_width = widths[(prev.name, "errors")]
            if layer.kind == "conv":
                wf = ops.flip_kernel(entry["wq"], layer.cin, layer.cout)
                operands = Conv(e, wf, 2 - layer.pad)
            else:
                operands = Matmul(e, ops.transpose(entry["wq"]))
            dx, e_fmt = self._gemm(GemmTask("backward_data", layer.name, operands, e_fmt,
                                            entry["w_fmt"], out_width, (prev.name, "errors"),
                                            e_max, entry["w_max"]), run)
            dx = dx.reshape(entry["in_shape"])
            pe = self.cache[i - 1]
            if "mask" in pe:
                dx = ops.mask(dx, pe["mask"])
            if "route" in pe:
                dx = ops.maxpool_backward(dx, pe["route"], pe["pre_pool"])
            elif "relu" in pe:
                dx = ops.mask(dx, pe["relu"])
            e = ops.f32(dx)
        self.cache = []
        return grads

    def update(self, grads, lr, stats):
        ops = self.ops
        for i, (dw, dw_frac, db, db_frac) in enumerate(grads):
            self.w[i], self.vw[i], n1 = fixed_update(ops, self.w[i], self.vw[i], dw,
                                                     g_frac=dw_frac, m_frac=self.w_frac[i], lr=lr)
            self.b[i], self.vb[i], n2 = fixed_update(ops, self.b[i], self.vb[i], db,
                                                     g_frac=db_frac, m_frac=self.b_frac[i], lr=lr)
            stats.update_clamped += n1 + n2

    def step(self, images, labels, masks, widths, lr, run):
        """One SGD step on a batch (uint8 NHWC images, int labels) as ``run`` (a ``StepRun``
        with stats) says; returns the mean loss."""
        logits, fmt = self.forward(images, widths, run, masks=masks, train=True)
        loss, e, e_fmt = self.loss_gradient(logits, fmt, labels,
                                            widths[(LAYERS[-1].name, "errors")], run.stats,
                                            run.step)
        grads = self.backward(e, e_fmt, widths, run)
        self.update(grads, lr, run.stats)
        return loss

    def predict(self, images, widths, exponents):
        logits, _ = self.forward(images, widths, StepRun(exponents), train=False)
        return np.argmax(self.ops.to_host(logits), axis=1)


def softmax_xent(z, labels):
    """Mean cross-entropy of float64 logits z (B, 10) and its gradient (softmax - onehot) / B."""
    z = z - z.max(axis=1, keepdims=True)
    ez = np.exp(z)
    s = ez.sum(axis=1, keepdims=True)
    p = ez / s
    b = z.shape[0]
    rows = np.arange(b)
    loss = float(np.mean(np.log(s[:, 0]) - z[rows, labels]))
    p[rows, labels] -= 1.0
    return loss, p / b
