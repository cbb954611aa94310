"""Benchmarks of the training methods: peak memory and time of one training pass, per sequence length.

``memory`` runs each configuration in a fresh process (``worker``) so that peaks do not
mix; ``spikingjelly`` drives SpikingJelly 2.0's FPTT and SLTT on an equivalent network
for a side-by-side reference, when that package is installed.
"""
