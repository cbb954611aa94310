"""Training: the engine that walks sequences in chunks, the methods over it, and training runs."""
from .config import TrainConfig
from .engine import Method, RateCrossEntropy, chunks
from .methods import METHODS, make_method
from .trainer import RunDirError, evaluate, load_run, train

__all__ = ["METHODS", "Method", "RateCrossEntropy", "RunDirError", "TrainConfig", "chunks",
           "evaluate", "load_run", "make_method", "train"]
