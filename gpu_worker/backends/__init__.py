"""Rendering backends. `base.Renderer` is the contract; `studio` is the CPU default.

`diffusion` (GPU) is imported lazily by the pipeline so CPU workers never import torch
weights code they do not use.
"""
