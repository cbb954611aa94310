"""A convolutional spiking network for the 8 x 8 digits, written as lava-dl's tutorials write networks.

Nothing in this file knows about lava-fptt: slayer CUBA blocks with their defaults
(``delay_shift`` on, as Lava's pipeline needs), a ``forward`` that runs them in order, and
an ``export_hdf5`` that lets each block write itself into a netx file. Tutorial 6 trains
it online; from the command line::

    lava-fptt train --network tutorials/digits_convnet.py:Network --algo sltt --epochs 4 --out runs/convnet
    lava-fptt export runs/convnet
    lava-fptt run runs/convnet/network.net --samples 100 --reference runs/convnet
"""
import h5py
import torch
from lava.lib.dl import slayer


class Network(torch.nn.Module):
    """conv 3x3 (8 ch) -> sum pool 2x2 -> conv 3x3 (16 ch) -> flatten -> dense 10, CUBA neurons."""

    def __init__(self):
        super().__init__()
        neuron_params = {
            'threshold': 1.25,
            'current_decay': 0.25,
            'voltage_decay': 0.03,
            'tau_grad': 0.03,
            'scale_grad': 3,
            'requires_grad': False,
        }
        self.blocks = torch.nn.ModuleList([
            slayer.block.cuba.Conv(neuron_params, 1, 8, 3, padding=1, weight_scale=2),     # 8 x 8 x 8
            slayer.block.cuba.Pool(neuron_params, 2),                                     # 8 x 4 x 4
            slayer.block.cuba.Conv(neuron_params, 8, 16, 3, padding=1, weight_scale=2),    # 16 x 4 x 4
            slayer.block.cuba.Flatten(),
            slayer.block.cuba.Dense(neuron_params, 16 * 4 * 4, 10, weight_scale=2),
        ])

    def forward(self, spike):
        for block in self.blocks:
            spike = block(spike)
        return spike

    def export_hdf5(self, filename):
        with h5py.File(filename, 'w') as h:
            layer = h.create_group('layer')
            for i, block in enumerate(self.blocks):
                block.export_hdf5(layer.create_group(f'{i}'))
