"""lossprio: loss-based example prioritisation (Selective-Backprop, Hu et al. 2021, RHO-LOSS), side by side."""

__version__ = "0.1.0"
