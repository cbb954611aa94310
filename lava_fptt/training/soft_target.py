"""FPTT's loss with a soft target for early chunks (the sFPTT reference's "oracle" term).

Source: Yin, Corradi & Bohte, Nature Machine Intelligence 2023 (arXiv 2112.11231) and
their code (byin-cwi/sFPTT, S-MNIST): classifying a sequence seen step by step, the loss
of the update at step t of T is

    (t/T) * CE(logits_t, y)  +  (1 - t/T) * CE(logits_t, q_t[y])

where the second term is a cross-entropy against a soft target: q_t[y] is a running
estimate of the class distribution the network outputs at step t for samples of class y
that it still gets wrong. Early in a sequence, when the input seen so far cannot tell the
class, the network is asked for what it typically outputs there rather than pushed to a
confident answer it cannot know; late in the sequence the hard target dominates and the
last chunk is plain cross-entropy. Without the soft term this is the late-weighted loss
(``late_weighting``).

The estimate q is kept per chunk end t and per class, starts uniform, and moves by an
exponential average (``momentum``) towards the mean softmax of the batch's wrongly
classified samples of each class (the batch's targets use the estimate before that
batch). It is not saved in checkpoints: a resumed run estimates it again from uniform.
Under DDP each rank keeps its own estimate.
"""
from __future__ import annotations

import torch

from .engine import late_weight

Tensor = torch.Tensor


class SoftTargetCrossEntropy:
    """The late-weighted cross-entropy plus the soft-target term for the earlier chunks.

    ``output_kind`` says how a chunk's output becomes logits, as in
    :func:`lava_fptt.training.engine.sequence_loss`: ``"readout"`` (graded, the last step
    of the chunk) or ``"spikes"`` (the spike rate over the chunk), times ``gain``.
    """

    def __init__(self, output_kind: str = "readout", gain: float = 8.0, momentum: float = 0.9) -> None:
        if output_kind not in ("readout", "spikes"):
            raise ValueError(f"no soft-target loss for output kind {output_kind!r}; known: readout, spikes")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.output_kind = output_kind
        self.gain = gain
        self.momentum = momentum
        self.targets: dict[int, Tensor] = {}
        """q by chunk end step: [K, K], row y the soft target of class y."""

    def __call__(self, output: Tensor, target: Tensor, start: int, num_steps: int) -> Tensor:
        readout = output[..., -1] if self.output_kind == "readout" else output.mean(dim=-1)
        log_p = torch.log_softmax(self.gain * readout, dim=-1)
        stop = start + output.shape[-1]
        weight = late_weight(start, output, num_steps)
        hard = torch.nn.functional.nll_loss(log_p, target)
        if stop >= num_steps:
            return hard
        table = self._update(stop, log_p.detach(), target)
        soft = -(table[target] * log_p).sum(dim=-1).mean()
        return weight * hard + (1.0 - weight) * soft

    @torch.no_grad()
    def _update(self, stop: int, log_p: Tensor, target: Tensor) -> Tensor:
        """The table of step ``stop`` before this batch (returned), then moved towards this
        batch's mean softmax of its wrongly classified samples, class by class."""
        classes = log_p.shape[-1]
        table = self.targets.get(stop)
        if table is None:
            table = torch.full((classes, classes), 1.0 / classes, dtype=log_p.dtype, device=log_p.device)
        before = table.clone()
        probs = log_p.exp()
        wrong = probs.argmax(dim=-1) != target
        counts = torch.bincount(target[wrong], minlength=classes).to(probs.dtype)
        sums = torch.zeros_like(table).index_add_(0, target[wrong], probs[wrong])
        seen = counts > 0
        table[seen] = self.momentum * table[seen] + (1.0 - self.momentum) * sums[seen] / counts[seen, None]
        self.targets[stop] = table
        return before
