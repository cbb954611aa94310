"""Training: the engine that walks sequences in chunks, the methods over it, and training runs."""
from .config import TrainConfig
from .engine import LastStepCrossEntropy, Method, RateCrossEntropy, chunks, sequence_loss
from .methods import BPTT, FPTT, METHODS, SLTT, SLTTK, TBPTT, make_method
from .trainer import RunDirError, evaluate, load_run, train

__all__ = ["BPTT", "FPTT", "METHODS", "SLTT", "SLTTK", "TBPTT", "LastStepCrossEntropy", "Method", "RateCrossEntropy", "RunDirError", "TrainConfig", "chunks",
           "evaluate", "load_run", "make_method", "sequence_loss", "train"]
