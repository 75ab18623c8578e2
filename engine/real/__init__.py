"""Real models: capture their neurons' activations and hunt polysemantic neurons.

One job per module:

- ``hooks``        forward-hook capture from any ``torch.nn.Module`` (no change to the model)
- ``capture``      batched text capture: padding and special tokens masked, progress bar
- ``activations``  the ActivationSet and its public ``.npz`` format (docs/activations.md)
- ``source_base``  the NeuronSource interface and the checks sources share
- ``sources``      the registry, ``open_source(spec)``; ``minilm``, ``digits``, ``hf`` (+ ``text_source``)
                   and ``file_source`` (a user's ``.npz``) implement the interface
- ``probes``       concept texts in ``data/probes``; ``gibberish`` generates the seeded control
- ``tokens``       token types and which are generic; ``detect`` + ``report`` classify neurons
- ``grid``         the 49 neurons of the superposition grid, and ``concept_means``

The facade and command line are ``engine.polysemantic``.
"""
