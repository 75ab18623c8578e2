"""Timeline for the phase diagram of 2 features in 1 dimension: theory against trained models.

x: feature density 1 - S (both features, log scale); y: importance of feature 2 relative to feature 1
(log scale). Theory (engine.toy.phase.analytic_phase_diagram) picks the candidate solution of lowest
expected loss in each cell; trained (trained_phase_diagram) trains a model per cell and seed in one
batched run, keeps the seed of lowest expected loss, and labels what it learned by its geometry.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track

KIND = "toy.phase_diagram"
LEGEND = {"not represented": "feature 2 not represented", "dedicated dimension": "feature 2 gets the dimension",
          "superposition": "superposition (antipodal pair)", "other": "other"}


@dataclass(frozen=True)
class PhaseSettings:
    """The grid (densities x importances) and how the trained half is trained."""

    n_densities: int = 10
    n_importances: int = 10
    density_min: float = 0.01
    density_max: float = 1.0
    importance_min: float = 0.1
    importance_max: float = 10.0
    seeds: int = 2
    steps: int = 2500
    batch_size: int = 256
    lr: float = 5e-3
    seed: int = 0
    fill_seconds: float = 8.0

    def validate(self) -> None:
        """Reject bad user choices in one line before anything is trained."""
        from engine.timelines.errors import SettingsError
        from engine.toy import ToyConfigError
        for name in ("n_densities", "n_importances"):
            value = getattr(self, name)
            if not (isinstance(value, int) and 2 <= value <= 40):
                raise SettingsError(f"{name}={value!r}: give a whole number from 2 to 40 (cells along that axis)")
        if not (0 < self.density_min < self.density_max <= 1):
            raise SettingsError(f"density range {self.density_min:g}..{self.density_max:g} is invalid: "
                                "need 0 < density_min < density_max <= 1 (feature probability 1-S)")
        if not (0 < self.importance_min < self.importance_max):
            raise SettingsError(f"importance range {self.importance_min:g}..{self.importance_max:g} is invalid: "
                                "need 0 < importance_min < importance_max")
        if not (isinstance(self.seeds, int) and 1 <= self.seeds <= 8):
            raise SettingsError(f"seeds={self.seeds!r}: give a whole number from 1 to 8 (models trained per cell)")
        if not self.fill_seconds > 0:
            raise SettingsError(f"fill_seconds={self.fill_seconds!r}: must be a positive number of seconds")
        try:
            self.toy_config().validate()
        except ToyConfigError as e:
            raise SettingsError(str(e)) from None

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.geomspace(self.density_min, self.density_max, self.n_densities),
                np.geomspace(self.importance_min, self.importance_max, self.n_importances))

    def training_overrides(self) -> dict:
        return dict(steps=self.steps, batch_size=self.batch_size, lr=self.lr, seed=self.seed)

    def toy_config(self):
        from engine.toy.phase_grid import phase_grid_config
        densities, importances = self.axes()
        return phase_grid_config(densities, importances, self.seeds, **self.training_overrides())


def build(settings: PhaseSettings, progress: bool = False) -> Timeline:
    from engine.toy.phase import LABELS, agreement, analytic_phase_diagram, trained_phase_diagram

    densities, importances = settings.axes()
    theory = analytic_phase_diagram(densities, importances)
    trained = trained_phase_diagram(densities, importances, seeds=settings.seeds, progress=progress,
                                    **settings.training_overrides())
    agree = agreement(theory, trained)
    miss = theory.label != trained.label
    n_cells, n_agree = theory.label.size, int((~miss).sum())
    excess = (trained.loss[miss] / np.maximum(theory.loss[miss], 1e-12) - 1) if miss.any() else np.zeros(0)
    present = sorted(set(theory.label.ravel().tolist()) | set(trained.label.ravel().tolist()))
    # A miss is a local minimum if theory says superposition but training kept one feature, at a higher loss.
    superposition = LABELS.index("superposition")
    stuck = miss & (theory.label == superposition) & (trained.label < superposition) & (trained.loss > theory.loss)
    if not miss.any():
        miss_note = ""
    elif stuck[miss].all():
        miss_note = (" Each miss (outlined) is a local minimum: one feature kept where superposition "
                     "has the lower loss.")
    else:
        miss_note = (f" Misses are outlined; {int(stuck.sum())} of the {int(miss.sum())} kept a single feature "
                     "where superposition has the lower loss.")

    segments = [
        Segment("theory", 5.0, "2 features, 1 dimension. Theory: for each feature density (x) and importance of "
                "feature 2 relative to feature 1 (y), the solution with the lowest expected loss.", "linear"),
        Segment("trained", settings.fill_seconds, f"Now a real model is trained in every cell (best of {settings.seeds} "
                "seeds), and the cell takes the colour of what it learned.", "linear"),
        Segment("agreement", 6.0, f"Training lands on the theory's optimum in {n_agree} of {n_cells} cells."
                + miss_note, "smooth"),
    ]
    tl = Timeline(kind=KIND, title="Phase diagram: 2 features in 1 dimension",
                  source=(f"Toy ReLU model, 2 features \u2192 1 dim; trained {settings.steps:,} steps, lr {settings.lr:g}, "
                          f"batch {settings.batch_size}, best of {settings.seeds} seeds per cell"
                          + (f", seed {settings.seed}" if settings.seed else "")),
                  segments=segments)
    t0 = tl.segment_start("trained")
    # Cells are filled row by row from the least important feature 2 up; "filled" counts cells shown.
    tl.tracks["filled"] = Track(np.array([t0, t0 + settings.fill_seconds * 0.92]), np.array([0.0, float(n_cells)]))
    tl.tracks["misses"] = Track(np.array([0.0, tl.segment_start("agreement"), tl.segment_start("agreement") + 1.0]),
                                np.array([0.0, 0.0, 1.0]))
    tl.arrays.update(
        densities=densities, importances=importances, theory_label=theory.label.astype(np.int64),
        trained_label=trained.label.astype(np.int64), theory_loss=theory.loss.astype(float),
        trained_loss=trained.loss.astype(float), trained_W=trained.W.astype(float), trained_b=trained.b.astype(float),
        theory_W=theory.W.astype(float), excess_loss=excess.astype(float), stuck=stuck,
    )
    tl.meta.update(
        labels=list(LABELS), legend=[LEGEND[LABELS[i]] for i in range(len(LABELS))], present=present,
        agreement=agree, n_agree=n_agree, n_cells=n_cells,
        settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
    )
    return tl.validate()
