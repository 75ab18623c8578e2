"""Toy models of superposition (Elhage et al. 2022): train, measure, and the 2-feature phase diagram.

Importing does no work beyond importing torch: nothing is trained or read from the cache.
``train`` is imported eagerly on purpose. The submodule ``engine.toy.train`` has the same name as
the function, and only an eager import keeps the attribute ``engine.toy.train`` bound to the
function, whatever is imported first. To reach the module, write
``from engine.toy.train import ...``: ``import engine.toy.train as m`` gives you the function.
"""
from engine.toy.config import ToyConfig, ToyConfigError
from engine.toy.train import ToyRun, train, train_cached

__all__ = ["ToyConfig", "ToyConfigError", "ToyRun", "train", "train_cached"]
