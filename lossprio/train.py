"""The training loop: any model, any selector, honest accounting, resumable after a kill.

Per candidate batch: an optional no-grad selection forward (eval mode), the selector's decision,
and the chosen (already augmented) examples queued; every full queue of ``batch_size`` is one
training forward+backward+step. Leftovers train as a smaller batch at the end of an epoch.
After every epoch a checkpoint and the record are written atomically; a restarted run with the
same config resumes from the last checkpoint and ends with the same metrics as an uninterrupted
run (bit-identical on the CPU), because every random stream is seeded by (seed, epoch).

The same code runs on CPUs and GPUs; the CPU-only CI exercises autocast and channels_last by
forcing them on, and the few lines only a GPU has run are marked "GPU only".
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import corruptions, irreducible, probes, selectors
from .accounting import NOT_TRAINING, Counters, PhaseClock, Queue, StepLog
from .batches import Augment, Batch, BatchIterator, derive_seed
from .config import TrainConfig
from .data import ImageSet, channel_stats, class_balanced_fraction, halves, keep_classes, load
from .models import build as build_model
from .locks import exclusive
from .records import RECORD_FORMAT, RunRecord, git_commit, machine_info, now
from .storage import FileProblem, load_tensors, remove_temporaries, save_tensors, set_aside

# ----------------------------------------------------------------------------- setup

@dataclass
class Setup:
    """Everything a run needs, built once from its config."""

    train: ImageSet
    test: ImageSet
    corrupted: Tensor  # bool mask over training positions
    augment: Augment
    model: nn.Module
    optimizer: torch.optim.Optimizer
    selector: selectors.Selector
    extras: dict[str, Tensor]  # per-example tables by dataset index, on the device
    among: Tensor | None  # training positions the traversal is limited to (SVP's core-set)


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}: no CUDA device is available here; use 'cpu' or 'auto'")
    return device


@functools.lru_cache(maxsize=4)
def load_cached(name: str, split: str, root: str | None) -> ImageSet:
    """:func:`lossprio.data.load`, kept in memory across the runs of a sweep (never modified in place)."""
    return load(name, split, root)


def load_data(config: TrainConfig) -> tuple[ImageSet, ImageSet | None, ImageSet, Tensor]:
    """(train, holdout or None, test, corrupted mask over train) as the config asks."""
    train, test = load_cached(config.dataset, "train", config.data_root), load_cached(config.dataset, "test", config.data_root)
    if config.train_fraction < 1:
        train = require_examples(class_balanced_fraction(train, config.train_fraction, seed=0), "train_fraction", config.train_fraction, len(train))
    if config.test_fraction < 1:
        test = require_examples(class_balanced_fraction(test, config.test_fraction, seed=0), "test_fraction", config.test_fraction, len(test))
    holdout = None
    if config.split == "half":
        train, holdout = halves(train)
    corrupted = torch.zeros(len(train), dtype=torch.bool)
    if config.corruption is not None:
        train, corrupted = corruptions.apply(train, config.corruption, config.corruption_fraction, config.corruption_seed)
        if holdout is not None and config.corrupt_holdout:
            holdout, _ = corruptions.apply(holdout, config.corruption, config.corruption_fraction, config.corruption_seed + 1)
    if config.relevant_classes:
        test = keep_classes(test, config.relevant_classes, setting="relevant_classes")
        holdout = None if holdout is None else keep_classes(holdout, config.relevant_classes, setting="relevant_classes")
    return train, holdout, test, corrupted


def require_examples(subset: ImageSet, setting: str, value: float, of: int) -> ImageSet:
    """``subset``, or ``ValueError`` naming the setting that left it empty."""
    if len(subset) == 0:
        raise ValueError(f"{setting}={value!r} leaves no examples of the {of} in {subset.name}/{subset.split}: raise it")
    return subset


def build_selector(config: TrainConfig, train: ImageSet, holdout: ImageSet | None, augment: Augment,
                   device: torch.device, cache_dir: Path, progress: bool) -> tuple[selectors.Selector, dict[str, Tensor]]:
    """The run's selector and the per-example tables it needs (irreducible losses)."""
    kwargs = {"seed": derive_seed(config.seed, 3), **config.selector_kwargs}
    il_config = irreducible.ILConfig(model=config.il_model, model_kwargs=dict(config.il_model_kwargs), epochs=config.il_epochs, holdout=config.il_holdout,
                                     holdout_fraction=config.il_holdout_fraction, seed=config.seed)
    if config.selector == "stale_sb":
        kwargs.setdefault("num_examples", len(train))
    if config.selector == "svp":
        proxy = irreducible.ILConfig(model=config.il_model, model_kwargs=dict(config.il_model_kwargs), epochs=config.svp_proxy_epochs, seed=config.seed)
        kwargs["proxy_entropy"] = irreducible.train_and_score(train, train, proxy, augment, device, progress, kind="entropy")
        kwargs.setdefault("fraction", config.svp_fraction)
    selector = selectors.build(config.selector, **kwargs)
    extras = {}
    if "irreducible_loss" in selector.requires:
        losses = irreducible.irreducible_losses(train, holdout, il_config, augment, device, cache_dir, progress)
        extras["irreducible_loss"] = losses.to(device)
    return selector, extras


def prepare(config: TrainConfig, device: torch.device, cache_dir: Path, progress: bool) -> Setup:
    """Load data, corrupt it, build model, optimizer and selector."""
    train, holdout, test, corrupted = load_data(config)
    mean, std = channel_stats(train)
    augment = Augment(config.crop_padding, config.flip, config.cutout, mean, std)
    selector, extras = build_selector(config, train, holdout, augment, device, cache_dir, progress)
    torch.manual_seed(config.seed)
    c, h, _ = train.image_shape
    model = build_model(config.model, num_classes=train.num_classes, in_channels=c, image_size=h, **config.model_kwargs).to(device)
    if channels_last(config, device):
        model = model.to(memory_format=torch.channels_last)
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                    nesterov=config.nesterov and config.momentum > 0, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return Setup(train, test, corrupted.to(device), augment, model, optimizer, selector, extras, selector.restrict(len(train)))


def amp_enabled(config: TrainConfig, device: torch.device) -> bool:
    """bf16 autocast: on CUDA by default; on a CPU only when asked (it runs, many times slower)."""
    if config.amp and device.type != "cuda":
        warnings.warn(f"amp=True on {device}: bf16 autocast runs on a CPU but many times slower than fp32; "
                      "use it there only to test the autocast path", RuntimeWarning, stacklevel=3)
    return device.type == "cuda" if config.amp is None else config.amp  # the default True branch: GPU only, never run in CI


def channels_last(config: TrainConfig, device: torch.device) -> bool:
    return device.type == "cuda" if config.channels_last is None else config.channels_last  # default True: GPU only (CI forces it on the CPU)


def learning_rate(config: TrainConfig, counters: Counters, train_size: int) -> float:
    """Step schedule: ``lr × gamma^(milestones passed)``, milestones in epochs, backprops, or
    backprops per training-set size (``backprop_epochs``)."""
    progress = {"epoch": counters.epoch, "backprops": counters.backprops,
                "backprop_epochs": counters.backprops / train_size}[config.lr_unit]
    return config.lr * config.lr_gamma ** sum(progress >= m for m in config.lr_milestones)


def evaluate(model: nn.Module, batches: BatchIterator, amp: bool) -> tuple[Tensor, Tensor]:
    """(error, mean loss) over ``batches``, as 0-d tensors on the device."""
    model.eval()
    wrong = total_loss = torch.zeros((), device=batches.device)
    with torch.no_grad(), torch.autocast(batches.device.type, dtype=torch.bfloat16, enabled=amp):
        for batch in batches.epoch(0):
            logits = model(batch.inputs).float()
            wrong = wrong + (logits.argmax(1) != batch.labels).sum()
            total_loss = total_loss + F.cross_entropy(logits, batch.labels, reduction="sum")
    model.train()
    n = batches.images.shape[0]
    return wrong / n, total_loss / n


class FeatureNorms:
    """Forward hook on the model's head: the norm of its input (penultimate features) per example."""

    def __init__(self, head: nn.Module) -> None:
        self.value: Tensor | None = None
        head.register_forward_hook(self.capture)
        self.active = False

    def capture(self, module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        if self.active:
            self.value = inputs[0].detach().float().norm(dim=1)


# ----------------------------------------------------------------------------- the loop

class Trainer:
    """One run's loop state; :func:`run` drives it."""

    def __init__(self, config: TrainConfig, setup: Setup, device: torch.device, record: RunRecord) -> None:
        self.config, self.setup, self.device, self.record = config, setup, device, record
        self.amp = amp_enabled(config, device)
        self.counters = Counters()
        self.steps = StepLog()
        self.queue = Queue(config.batch_size)
        self.selection_counts = torch.zeros(len(setup.train), dtype=torch.int64, device=device)
        cl = channels_last(config, device)
        # With B > b (candidate sampling, Kath18's pool) an incomplete last candidate batch is dropped.
        self.candidates = BatchIterator(setup.train, config.candidates, device=device, augment=setup.augment, seed=config.seed,
                                        channels_last=cl, drop_last=config.candidates > config.batch_size)
        self.test = BatchIterator(setup.test, 1024, device=device, augment=setup.augment, evaluation=True, shuffle=False, channels_last=cl)
        self.features = FeatureNorms(setup.model.head) if "feature_norm" in setup.selector.wants else None
        self.clock = PhaseClock(self.counters, device, config.time_phases)
        self.finite = torch.ones((), dtype=torch.bool, device=device)  # every training loss so far finite
        self.tracker = probes.Tracker(len(setup.train), config.track_examples, derive_seed(config.seed, 4), device) if config.track_examples else None
        self.last_candidates: Batch | None = None  # what the gradient-similarity probe looks at

    def selection_forward(self, inputs: Tensor) -> Tensor:
        model = self.setup.model
        model.train(not self.config.selection_eval_mode)
        if self.features is not None:
            self.features.active = True
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            logits = model(inputs).float()
        if self.features is not None:
            self.features.active = False
        model.train()
        self.counters.selection_forwards += inputs.shape[0]
        return logits

    def select(self, batch: Batch) -> None:
        """Selection forward (if the selector wants one), decision, and queueing of the chosen."""
        selector = self.setup.selector
        with self.clock("selection_forward"):
            logits = self.selection_forward(batch.inputs) if selector.needs_forward() else None
        with self.clock("selection"):
            extras = {name: table[batch.indices] for name, table in self.setup.extras.items()}
            if logits is not None and self.features is not None:
                extras["feature_norm"] = self.features.value
            selection = selector.decide(batch.indices, logits, batch.labels, extras)
            chosen = selection.chosen
            self.selection_counts.index_add_(0, batch.indices[chosen], torch.ones_like(chosen))
            self.queue.push(batch.indices[chosen], batch.inputs[chosen], batch.labels[chosen], selection.weights)
        probe = self.config.score_probe_every
        if probe and logits is not None and (self.counters.candidates // self.config.candidates) % probe == 0:
            with self.clock("probe"):
                measures = probes.score_concentration(logits, batch.labels, extras["irreducible_loss"], self.setup.corrupted[batch.indices])
            self.record.score_probes.append({"step": self.counters.step, "epoch": self.counters.epoch, **measures})
        self.counters.candidates += batch.indices.numel()
        self.last_candidates = batch
        if self.tracker is not None:
            with self.clock("probe"):
                self.tracker.observe(self.counters.epoch, self.counters.step, batch.indices, selection.scores,
                                     selector.probabilities(selection), chosen)

    def train_on(self, indices: Tensor, inputs: Tensor, labels: Tensor, weights: Tensor) -> None:
        """One forward+backward+step on a queued batch; losses weighted by the selector's weights."""
        lr = learning_rate(self.config, self.counters, len(self.setup.train))
        with self.clock("train_forward"):
            for group in self.setup.optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                logits = self.setup.model(inputs)
            loss = (F.cross_entropy(logits.float(), labels, reduction="none") * weights).mean()
        with self.clock("backward"):
            self.setup.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.setup.optimizer.step()
        self.finite &= torch.isfinite(loss.detach())  # a device op, read at the next evaluation or epoch end
        self.setup.selector.observe(indices, logits.detach().float(), labels)
        n = indices.numel()
        self.counters.step += 1
        self.counters.backprops += n
        self.counters.training_forwards += n
        self.steps.add(self.counters.step, self.counters.backprops, lr, n, loss.detach(), self.setup.corrupted[indices].float().mean())
        if self.config.eval_every and self.counters.step % self.config.eval_every == 0:
            self.evaluate()
        if self.config.probe_every and self.counters.step % self.config.probe_every == 0:
            self.probe_gradients()

    def budget_spent(self) -> bool:
        """Whether ``budget`` × (training-set size) examples have been back-propagated."""
        return self.config.budget is not None and self.counters.backprops >= self.config.budget * len(self.setup.train)

    def probe_gradients(self) -> None:
        batch = self.last_candidates
        if batch is None or batch.indices.numel() < 3:
            return
        generator = torch.Generator(device=self.device).manual_seed(derive_seed(self.config.seed, self.counters.step, 5))
        with self.clock("probe"):
            measures = probes.gradient_similarity(self.setup.model, batch.inputs, batch.labels, generator, self.amp)
        self.record.probes.append({"step": self.counters.step, "epoch": self.counters.epoch, **measures})

    def snapshot_confidences(self) -> None:
        with self.clock("probe"):
            confidence, correct = probes.target_confidences(self.setup.model, self.test, self.amp)
        self.record.confidences[str(self.counters.epoch)] = {"confidence": confidence, "correct": correct}

    def evaluate(self) -> dict[str, float]:
        self.check_finite()
        with self.clock("evaluation"):
            error, loss = evaluate(self.setup.model, self.test, self.amp)
            error, loss = float(error), float(loss)
        if not math.isfinite(loss):
            raise Diverged(self.counters.step, self.counters.epoch, "the test loss", loss)
        self.clock.update_wall()
        entry = {k: v for k, v in asdict(self.counters).items() if k not in ("phase_seconds", "resumes", "candidates")}
        entry["train_wall_s"] = self.counters.wall_s - sum(self.counters.phase_seconds[p] for p in NOT_TRAINING)
        entry.update(test_error=error, test_loss=loss, load=round(os.getloadavg()[0], 2))  # load: was the machine busy?
        self.record.evals.append(entry)
        return entry

    def run_epoch(self, bar: tqdm) -> None:
        epoch = self.counters.epoch
        self.setup.selector.start_epoch(epoch)
        torch.manual_seed(derive_seed(self.config.seed, epoch, 2))  # dropout and other global-RNG users
        for batch in self.candidates.epoch(epoch, self.setup.among):
            self.select(batch)
            while not self.budget_spent() and (chunk := self.queue.pop()) is not None:
                self.train_on(*chunk)
            bar.update(1)
            if self.budget_spent():
                break
        if not self.budget_spent() and (chunk := self.queue.pop(drain=True)) is not None:
            self.train_on(*chunk)
        self.queue.pop(drain=True)  # with the budget spent mid-epoch, the rest is dropped
        self.check_finite()
        self.counters.epoch += 1
        self.record.epoch_ends.append(self.counters.step)
        if self.counters.epoch in self.config.confidence_epochs:
            self.snapshot_confidences()
        if not self.config.eval_every or self.finished():
            if not self.record.evals or self.record.evals[-1]["step"] != self.counters.step:
                entry = self.evaluate()
                bar.set_postfix(test_error=f"{entry['test_error']:.4f}")

    def finished(self) -> bool:
        """All epochs run, or the backprop budget spent."""
        return self.counters.epoch >= self.config.epochs or self.budget_spent()

    def check_finite(self) -> None:
        """:class:`Diverged` at the first non-finite training loss since the last check (one sync)."""
        if not bool(self.finite):
            losses = self.steps.flush()["loss"]
            position = next(i for i, v in enumerate(losses) if not math.isfinite(v))
            raise Diverged(self.steps.columns["step"][position], self.counters.epoch, "the training loss", losses[position])

    def mark_diverged(self, diverged: "Diverged") -> str:
        """Record where and why the run diverged; returns the message for the user."""
        self.sync_record()
        config = self.config
        lr = self.steps.columns["lr"][diverged.step - 1] if 0 < diverged.step <= len(self.steps.columns["lr"]) else learning_rate(config, self.counters, len(self.setup.train))
        message = (f"run {config.run_id} diverged: {diverged.what} became {diverged.value} at step {diverged.step} "
                   f"(epoch {diverged.epoch}) with lr={lr:g} ({config.optimizer}, lr setting {config.lr:g}); "
                   f"a learning rate too high for this model and batch size is the usual cause: lower lr")
        self.record.status, self.record.finished = "diverged", now()
        self.record.diverged = {"step": diverged.step, "epoch": diverged.epoch, "what": diverged.what,
                                "value": str(diverged.value), "lr": lr, "setting": {"lr": config.lr, "optimizer": config.optimizer},
                                "message": message}
        return message

    # -- persistence

    def sync_record(self) -> None:
        self.clock.update_wall()
        self.record.epochs_done = self.counters.epoch
        self.record.counters = {k: v for k, v in asdict(self.counters).items() if k != "phase_seconds"}
        self.record.phase_seconds = dict(self.counters.phase_seconds)
        self.record.steps = self.steps.flush()
        self.record.selection_counts = self.selection_counts.tolist()
        if self.tracker is not None:
            self.record.tracked = self.tracker.entries

    def checkpoint(self, path: Path) -> None:
        self.sync_record()
        save_tensors({
            "model": self.setup.model.state_dict(),
            "optimizer": self.setup.optimizer.state_dict(),
            "selector": self.setup.selector.state_dict(),
            "counters": asdict(self.counters),
            "record": asdict(self.record),
        }, path, format=RECORD_FORMAT, config_hash=self.config.config_hash, run_id=self.config.run_id)

    def restore(self, path: Path) -> None:
        """Continue from a checkpoint; :class:`FileProblem` if it is damaged or belongs to another config."""
        header, state = load_tensors(path, map_location=self.device)
        if header.get("format") != RECORD_FORMAT or header.get("config_hash") != self.config.config_hash:
            raise FileProblem(path, f"a checkpoint of another run (format {header.get('format')}, "
                                    f"config_hash {str(header.get('config_hash'))[:10]}…, this run's {self.config.config_hash[:10]}…)")
        self.setup.model.load_state_dict(state["model"])
        self.setup.optimizer.load_state_dict(state["optimizer"])
        self.setup.selector.load_state_dict(state["selector"])
        self.counters.__init__(**state["counters"])
        self.counters.resumes += 1
        self.record = RunRecord.from_dict(state["record"], path)
        self.steps.columns = {k: list(v) for k, v in self.record.steps.items()}
        self.selection_counts = torch.tensor(self.record.selection_counts, dtype=torch.int64, device=self.device)
        if self.tracker is not None:
            self.tracker.entries = self.record.tracked
        self.clock = PhaseClock(self.counters, self.device, self.config.time_phases)


class Diverged(Exception):
    """A non-finite loss: the run stops and is recorded as diverged."""

    def __init__(self, step: int, epoch: int, what: str, value: float) -> None:
        self.step, self.epoch, self.what, self.value = step, epoch, what, value
        super().__init__(f"{what} became {value} at step {step}")


class DivergenceWarning(RuntimeWarning):
    """Issued when a run diverges (its record says where)."""


def run_folder(out_dir: str | Path, run_id: str) -> Path:
    """``out_dir/<run_id>``; ``ValueError`` if the id would leave ``out_dir`` (ids from :class:`TrainConfig` never do)."""
    root = Path(out_dir).resolve()
    folder = (root / run_id).resolve()
    if folder.parent != root:
        raise ValueError(f"run_id={run_id!r} is not a plain folder name inside {root}")
    return folder


def finished_record(path: Path, config: TrainConfig) -> RunRecord | None:
    """The run's record if it is done and is this config's; an unusable or foreign one is moved aside."""
    if not path.exists():
        return None
    try:
        record = RunRecord.load(path)
    except FileProblem as problem:
        set_aside(path, problem.problem)
        return None
    if record.config_hash != config.config_hash:
        differences = {k: (record.config.get(k), v) for k, v in config.to_dict().items() if record.config.get(k) != v}
        set_aside(path, f"a record of another config (record's vs this run's: {differences})")
        return None
    return record if record.done else None


def run(config: TrainConfig, out_dir: str | Path = "results", progress: bool = True, cache_dir: str | Path | None = None,
        wait: bool = True) -> RunRecord:
    """Train as ``config`` says; write ``out_dir/<run_id>/record.json``; resume or skip if one exists.

    A record or checkpoint is used only if it carries this config's hash and passes its checks;
    otherwise it is moved aside (``*.rejected-<time>``) with a warning and the run recomputes.
    A per-run lock keeps two processes from training the same run. A non-finite loss stops the
    run: its record gets status ``diverged`` (with the step and the lr) and a
    :class:`DivergenceWarning` is issued.

    Args:
        config: the run's settings.
        out_dir: records folder; each run gets ``<run_id>/`` with ``record.json`` (and, while
            running, ``checkpoint.pt`` and the ``lock`` file).
        progress: show a tqdm bar.
        cache_dir: where irreducible losses are cached (default ``out_dir/cache``).
        wait: if another process holds the run, wait for it (then return its record); ``False``
            raises :class:`lossprio.locks.Busy` at once.
    """
    run_dir = run_folder(out_dir, config.run_id)
    waiting = lambda busy: tqdm.write(f"{config.run_id}: waiting for the process training it ({busy})")
    with exclusive(run_dir / "lock", wait=wait, on_wait=waiting if progress else None):
        remove_temporaries(run_dir)
        done = finished_record(run_dir / "record.json", config)
        if done is not None:
            return done
        return train_locked(config, run_dir, progress, Path(cache_dir) if cache_dir else Path(out_dir) / "cache")


def train_locked(config: TrainConfig, run_dir: Path, progress: bool, cache_dir: Path) -> RunRecord:
    """The body of :func:`run`, with the run's lock held."""
    record_path, checkpoint_path = run_dir / "record.json", run_dir / "checkpoint.pt"
    device = resolve_device(config.device)
    setup = prepare(config, device, cache_dir, progress)
    record = RunRecord(config.run_id, config.to_dict(), git_commit(), machine_info(device),
                       corrupted=setup.corrupted.nonzero().flatten().tolist())
    trainer = Trainer(config, setup, device, record)
    examples = len(setup.train) if setup.among is None else setup.among.numel()
    batches = trainer.candidates.batches_for(examples)
    if batches == 0:
        raise ValueError(f"candidate_batch={config.candidates} exceeds the {examples} training examples: no full candidate "
                         f"batch, so no training step (raise train_fraction={config.train_fraction} or lower candidate_batch)")
    if checkpoint_path.exists():
        try:
            trainer.restore(checkpoint_path)
        except FileProblem as problem:
            set_aside(checkpoint_path, f"{problem.problem}; the run starts over")
            trainer = Trainer(config, prepare(config, device, cache_dir, progress=False), device, record)
    total = config.epochs * batches
    trainer.record.load_average.append(list(os.getloadavg()))
    try:
        with tqdm(total=total, initial=trainer.counters.epoch * batches, desc=config.run_id, disable=not progress) as bar:
            while not trainer.finished():
                trainer.run_epoch(bar)
                trainer.checkpoint(checkpoint_path)
                trainer.record.save(record_path)
    except Diverged as diverged:
        message = trainer.mark_diverged(diverged)
        trainer.record.save(record_path)
        checkpoint_path.unlink(missing_ok=True)
        warnings.warn(message, DivergenceWarning, stacklevel=3)
        return trainer.record
    trainer.sync_record()
    trainer.record.load_average.append(list(os.getloadavg()))
    trainer.record.status, trainer.record.finished = "finished", now()
    trainer.record.save(record_path)
    checkpoint_path.unlink(missing_ok=True)
    return trainer.record


def main(argv: list[str] | None = None) -> None:
    """``python -m lossprio.train CONFIG.json [--out DIR]``: one run from a JSON config."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", help="JSON file of TrainConfig settings")
    parser.add_argument("--out", default="results")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    record = run(TrainConfig.from_dict(json.loads(Path(args.config).read_text())), args.out, progress=not args.no_progress)
    print(json.dumps({"run_id": record.run_id, "best_test_error": record.best_test_error, "counters": record.counters}))


if __name__ == "__main__":
    main()
