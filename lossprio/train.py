"""The training loop: any model, any selector, honest accounting, resumable after a kill.

Per candidate batch: an optional no-grad selection forward (in the selector's reference mode,
``selection_eval_mode``), the selector's decision, and the chosen (already augmented) examples
queued; every full queue of ``batch_size`` is one training forward+backward+step. Leftovers train as
a smaller batch at the end of an epoch. After every epoch a checkpoint and the record are written
atomically; a restarted run with the same config resumes from the last checkpoint and ends with the
same metrics as an uninterrupted run (bit-identical on the CPU), because every random stream is
seeded by (seed, epoch).

What a run is built from (data, model, optimizer, selector) comes from :mod:`lossprio.assemble`,
where its record and checkpoint live from :mod:`lossprio.layout`. The same code runs on CPUs and
GPUs; the CPU-only CI exercises autocast and channels_last by forcing them on, and the few lines
only a GPU has run are marked "GPU only".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import threading
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import probes
from .accounting import NOT_TRAINING, Counters, PhaseClock, StepLog
from .assemble import Setup, amp_enabled, assemble, channels_last, preflight, resolve_device
from .batches import Batch, BatchIterator, derive_seed
from .checks import check_range, path_argument
from .cli import command
from .config import TrainConfig
from .core import SelectionCore, TrainBatch, weighted_loss
from .files import FileProblem, load_tensors, read_json, remove_temporaries, save_tensors, set_aside
from .layout import CHECKPOINT, LOCK, RECORD, finished_record, run_folder
from .locks import exclusive, waiting_message
from .models import eval_batch_size
from .precision import LossScaler, autocast
from .records import RECORD_FORMAT, RunRecord, git_commit, machine_info, now, settle_sidecar
from .schedules import budget_share, decayed


def learning_rate(config: TrainConfig, counters: Counters, train_size: int, epochs_done: float | None = None) -> float:
    """The rate of the next step. Step schedule: ``lr × gamma^(milestones passed)``, milestones
    in epochs, backprops, or backprops per training-set size (``backprop_epochs``). Cosine or
    linear: from ``lr`` to 0 over the budget's back-propagated examples, or without a budget,
    over the run's epochs (``epochs_done``: epochs traversed, with the current one's share; an
    epoch that traverses part of the training set is a whole epoch, as InfoBatch's schedule)."""
    if config.lr_schedule != "step":
        if config.budget is not None:
            done = budget_share(counters.backprops, config.budget, train_size)
        else:
            done = min(1.0, (counters.epoch if epochs_done is None else epochs_done) / config.epochs)
        return decayed(config.lr, config.lr_schedule, done)
    progress = {
        "epoch": counters.epoch,
        "backprops": counters.backprops,
        "backprop_epochs": counters.backprops / train_size,
    }[config.lr_unit]
    return config.lr * config.lr_gamma ** sum(progress >= m for m in config.lr_milestones)


def evaluate(model: nn.Module, batches: BatchIterator, amp: bool) -> tuple[Tensor, Tensor]:
    """(error, mean loss) over ``batches``, as 0-d tensors on the device."""
    model.eval()
    wrong = total_loss = torch.zeros((), device=batches.device)
    with torch.no_grad(), autocast(batches.device, amp):
        for batch in batches.epoch(0):
            logits = model(batch.inputs).float()
            wrong = wrong + (logits.argmax(1) != batch.labels).sum()
            total_loss = total_loss + F.cross_entropy(logits, batch.labels, reduction="sum")
    model.train()
    n = batches.images.shape[0]
    return wrong / n, total_loss / n


# ----------------------------------------------------------------------------- the loop


class Trainer:
    """One run's loop state; :func:`run` drives it."""

    def __init__(self, config: TrainConfig, setup: Setup, device: torch.device, record: RunRecord) -> None:
        self.config, self.setup, self.device, self.record = config, setup, device, record
        self.amp = amp_enabled(config, device)
        self.scaler = LossScaler(device, self.amp)  # fp16's loss scaling where the GPU lacks bf16 (a T4)
        self.counters = Counters()
        self.steps = StepLog()
        self.core = SelectionCore(
            setup.selector, config.batch_size, setup.extras, config.selection_eval_mode, head=setup.model.head
        )
        self.selection_counts = torch.zeros(len(setup.train), dtype=torch.int64, device=device)
        cl = channels_last(config, device)
        # With B > b (candidate sampling, Kath18's pool) an incomplete last candidate batch is dropped.
        self.candidate_batches = BatchIterator(
            setup.train,
            config.candidate_size,
            device=device,
            augment=setup.augment,
            seed=config.seed,
            channels_last=cl,
            drop_last=config.candidate_size > config.batch_size,
        )
        batch = eval_batch_size(config.model)
        self.test = BatchIterator(
            setup.test, batch, device=device, augment=setup.augment, evaluation=True, shuffle=False, channels_last=cl
        )
        self.clock = PhaseClock(self.counters, device, config.time_phases)
        self.finite = torch.ones((), dtype=torch.bool, device=device)  # every training loss so far finite
        self.tracker = (
            probes.Tracker(len(setup.train), config.track_examples, derive_seed(config.seed, 4), device)
            if config.track_examples
            else None
        )
        self.last_candidates: Batch | None = None  # what the gradient-similarity probe looks at
        self.epoch_start = (0, 1)  # (candidates traversed, the epoch's pool size) at the current epoch's start
        self.batch_start = 0  # candidates traversed before the current candidate batch

    def select(self, batch: Batch) -> None:
        """Selection forward (if the selector wants one), decision, and queueing of the chosen."""
        self.batch_start = self.counters.candidates
        selector = self.setup.selector
        if self.core.trains_through:
            self.select_and_train(batch)
            return
        logits = None
        if selector.needs_forward():
            with self.clock("selection_forward"):
                logits = self.core.forward(self.setup.model, batch.inputs, self.amp)
            self.counters.selection_forwards += batch.inputs.shape[0]
        with self.clock("selection"):
            selection = self.core.decide(batch.indices, logits, batch.labels)
            chosen = selection.chosen
            self.selection_counts.index_add_(0, batch.indices[chosen], torch.ones_like(chosen))
            self.core.push(batch.inputs, batch.labels, batch.indices, selection)
        probe = self.config.score_probe_every
        if probe and logits is not None and (self.counters.candidates // self.config.candidate_size) % probe == 0:
            with self.clock("probe"):
                measures = probes.score_concentration(
                    logits,
                    batch.labels,
                    self.setup.extras["irreducible_loss"][batch.indices],
                    self.setup.corrupted[batch.indices],
                )
            self.record.score_probes.append({"step": self.counters.step, "epoch": self.counters.epoch, **measures})
        self.counters.candidates += batch.indices.numel()
        self.last_candidates = batch
        if self.tracker is not None:
            with self.clock("probe"):
                self.tracker.observe(
                    self.counters.epoch,
                    self.counters.step,
                    batch.indices,
                    selection.scores,
                    selector.probabilities(selection),
                    chosen,
                )

    def select_and_train(self, batch: Batch) -> None:
        """One train-mode forward over the candidates, the selection read off its logits, and the
        chosen rows' weighted loss back-propagated through that same forward (paper M's
        gradient-norm IS: BatchNorm statistics come from the candidates, no second forward)."""
        lr = self.set_learning_rate()
        with self.clock("train_forward"):
            logits = self.core.forward(self.setup.model, batch.inputs, self.amp)
        with self.clock("selection"):
            selection = self.core.decide(batch.indices, logits, batch.labels)
            chosen = selection.chosen
            self.selection_counts.index_add_(0, batch.indices[chosen], torch.ones_like(chosen))
        self.counters.candidates += batch.indices.numel()
        self.last_candidates = batch
        self.step(
            self.core.through(batch.inputs, batch.labels, batch.indices, logits, selection),
            lr,
            forwards=batch.indices.numel(),
        )

    def training_losses(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Per-example training losses (cross-entropy, with the config's label smoothing)."""
        return F.cross_entropy(logits, labels, reduction="none", label_smoothing=self.config.label_smoothing)

    def set_learning_rate(self) -> float:
        """Set the next step's rate on the optimiser (:func:`learning_rate`); returns it."""
        lr = learning_rate(self.config, self.counters, len(self.setup.train), self.epochs_done())
        for group in self.setup.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def train_on(self, batch: TrainBatch) -> None:
        """One forward+backward+step on a queued batch; losses weighted by the selector's weights."""
        self.step(batch, self.set_learning_rate(), forwards=len(batch))

    def step(self, batch: TrainBatch, lr: float, forwards: int) -> None:
        """Forward (unless the batch carries the selection forward's logits), weighted loss,
        backward and the optimiser's step, then the step's bookkeeping."""
        with self.clock("train_forward"):
            logits = batch.logits
            if logits is None:
                with autocast(self.device, self.amp):
                    logits = self.setup.model(batch.inputs)
            loss = weighted_loss(self.training_losses(logits.float(), batch.targets), batch.weights)
        with self.clock("backward"):
            self.setup.optimizer.zero_grad(set_to_none=True)
            self.scaler.backward_and_step(loss, self.setup.optimizer)
        self.after_step(batch, logits.detach(), loss, lr, forwards)

    def after_step(self, batch: TrainBatch, logits: Tensor, loss: Tensor, lr: float, forwards: int) -> None:
        """The bookkeeping of a training step on ``batch`` (``forwards`` examples passed forward)."""
        self.finite &= torch.isfinite(loss.detach())  # a device op, read at the next evaluation or epoch end
        self.core.observe(batch, logits)
        n = len(batch)
        self.counters.step += 1
        self.counters.backprops += n
        self.counters.training_forwards += forwards
        self.steps.add(
            self.counters.step,
            self.counters.backprops,
            lr,
            n,
            loss.detach(),
            self.setup.corrupted[batch.indices].float().mean(),
        )
        if self.config.evaluates_at(self.counters.step):
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
        generator = torch.Generator(device=self.device).manual_seed(
            derive_seed(self.config.seed, self.counters.step, 5)
        )
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
        among = self.setup.selector.epoch_pool(epoch)
        pool = self.setup.among if among is None else among
        self.epoch_start = (self.counters.candidates, len(self.setup.train) if pool is None else pool.numel())
        for batch in self.candidate_batches.epoch(epoch, pool):
            self.select(batch)
            at_once = self.setup.selector.steps_per_pool()  # one step on this pool's picks, however many
            while not self.budget_spent() and (chunk := self.core.pop(drain=at_once)) is not None:
                self.train_on(chunk)
            bar.update(1)
            if self.budget_spent():
                break
        if not self.budget_spent() and (chunk := self.core.pop(drain=True)) is not None:
            self.train_on(chunk)
        self.core.queue.clear()  # with the budget spent mid-epoch, the rest is dropped
        self.check_finite()
        self.counters.epoch += 1
        self.record.epoch_ends.append(self.counters.step)
        if self.counters.epoch in self.config.confidence_epochs:
            self.snapshot_confidences()
        if not self.config.eval_every or self.finished():
            if not self.record.evals or self.record.evals[-1]["step"] != self.counters.step:
                entry = self.evaluate()
                bar.set_postfix(test_error=f"{entry['test_error']:.4f}")

    def epochs_done(self) -> float:
        """Epochs traversed so far, with the share of its candidates the current epoch had traversed
        before the candidate batch being trained on (so an epoch's first step is at its start)."""
        start, size = self.epoch_start
        return self.counters.epoch + min(1.0, (self.batch_start - start) / max(1, size))

    def finished(self) -> bool:
        """All epochs run, or the backprop budget spent."""
        return self.counters.epoch >= self.config.epochs or self.budget_spent()

    def check_finite(self) -> None:
        """:class:`Diverged` at the first non-finite training loss since the last check (one sync)."""
        if not bool(self.finite):
            losses = self.steps.flush()["loss"]
            position = next(i for i, v in enumerate(losses) if not math.isfinite(v))
            raise Diverged(
                self.steps.columns["step"][position], self.counters.epoch, "the training loss", losses[position]
            )

    def mark_diverged(self, diverged: Diverged) -> str:
        """Record where and why the run diverged; returns the message for the user."""
        self.sync_record()
        config = self.config
        lr = (
            self.steps.columns["lr"][diverged.step - 1]
            if 0 < diverged.step <= len(self.steps.columns["lr"])
            else learning_rate(config, self.counters, len(self.setup.train))
        )
        message = (
            f"run {config.run_id} diverged: {diverged.what} became {diverged.value} at step {diverged.step} "
            f"(epoch {diverged.epoch}) with lr={lr:g} ({config.optimizer}, lr setting {config.lr:g}); "
            f"a learning rate too high for this model and batch size is the usual cause: lower lr"
        )
        self.record.status, self.record.finished = "diverged", now()
        self.record.diverged = {
            "step": diverged.step,
            "epoch": diverged.epoch,
            "what": diverged.what,
            "value": str(diverged.value),
            "lr": lr,
            "setting": {"lr": config.lr, "optimizer": config.optimizer},
            "message": message,
        }
        return message

    # -- persistence

    def sync_record(self) -> None:
        self.clock.update_wall()
        self.record.epochs_done = self.counters.epoch
        self.record.counters = {k: v for k, v in asdict(self.counters).items() if k != "phase_seconds"}
        self.record.phase_seconds = dict(self.counters.phase_seconds)
        self.record.steps = self.steps.flush()
        self.record.selection_counts = self.selection_counts.tolist()
        self.record.selector_stats = self.setup.selector.stats()
        if self.tracker is not None:
            self.record.tracked = self.tracker.entries

    def checkpoint(self, path: Path, record_path: Path) -> None:
        """Write the checkpoint and the record (the record's measurements so far ride in the
        checkpoint too: the two files cannot be written as one, and a resume needs both to agree)."""
        self.sync_record()
        save_tensors(
            {
                "model": self.setup.model.state_dict(),
                "optimizer": self.setup.optimizer.state_dict(),
                "selector": self.setup.selector.state_dict(),
                "loss_scaler": self.scaler.state_dict(),
                "counters": asdict(self.counters),
                "record": self.record.state(),
            },
            path,
            format=RECORD_FORMAT,
            config_hash=self.config.config_hash,
            run_id=self.config.run_id,
        )
        self.record.save(record_path)

    def restore(self, path: Path) -> None:
        """Continue from a checkpoint; :class:`FileProblem` if it is damaged or belongs to another config."""
        header, state = load_tensors(path, map_location=self.device)
        if header.get("format") != RECORD_FORMAT or header.get("config_hash") != self.config.config_hash:
            raise FileProblem(
                path,
                f"a checkpoint of another run (format {header.get('format')}, "
                f"config_hash {str(header.get('config_hash'))[:10]}…, this run's {self.config.config_hash[:10]}…)",
            )
        self.setup.model.load_state_dict(state["model"])
        self.setup.optimizer.load_state_dict(state["optimizer"])
        self.setup.selector.load_state_dict(state["selector"])
        self.scaler.load_state_dict(state.get("loss_scaler", {}))
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


#: the longest a run goes without writing a checkpoint (seconds), by default: a kill loses at most this
CHECKPOINT_EVERY_S = 60.0


def run(
    config: TrainConfig,
    out_dir: str | Path = "results",
    progress: bool = True,
    cache_dir: str | Path | None = None,
    wait: bool = True,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    leave_bar: bool = True,
) -> RunRecord:
    """Train as ``config`` says; write ``out_dir/<run_id>/record.json``; resume or skip if one exists.

    A record or checkpoint is used only if it carries this config's hash and passes its checks;
    otherwise it is moved aside (``*.rejected-<time>``) with a warning and the run recomputes.
    A per-run lock keeps two processes from training the same run. A non-finite loss stops the
    run: its record gets status ``diverged`` (with the step and the lr) and a
    :class:`DivergenceWarning` is issued.

    Args:
        config: the run's settings.
        out_dir: records folder; each run gets ``<run_id>/`` with ``record.json`` and ``record.npz``
            (and, while running, ``checkpoint.pt`` and the ``lock`` file).
        progress: show a tqdm bar.
        cache_dir: where irreducible-loss models are cached (default ``out_dir/cache``; sweeps use
            :func:`lossprio.layout.shared_cache_dir`, one folder for every chapter of a results tree).
        wait: if another process holds the run, wait for it (then return its record); ``False``
            raises :class:`lossprio.locks.Busy` at once.
        checkpoint_every_s: write a checkpoint at the first epoch end this many seconds after the
            last one (0: every epoch end), and at the epoch end after an interrupt (Ctrl-C, SIGTERM).
            Writing is its own phase, ``checkpoint``, left out of training wall clock.
        leave_bar: keep the finished run's bar on screen (a sweep's nested bars do not).
    """
    check_range("checkpoint_every_s", checkpoint_every_s, 0.0)
    if not str(out_dir).strip():
        raise ValueError(
            f"out_dir={str(out_dir)!r}: give the results folder (an empty path would mean the current one)"
        )
    preflight(config)  # refusals that need the data or this machine come before the run's folder exists
    run_dir = run_folder(out_dir, config.run_id)
    waiting = lambda busy: tqdm.write(waiting_message(config.run_id, busy))
    with exclusive(run_dir / LOCK, wait=wait, on_wait=waiting if progress else None):
        remove_temporaries(run_dir)
        settle_sidecar(run_dir / RECORD)
        done = finished_record(run_dir / RECORD, config)
        if done is not None:
            (run_dir / CHECKPOINT).unlink(missing_ok=True)  # a kill after the record's last write leaves it
            return done
        return train_locked(
            config,
            run_dir,
            progress,
            Path(cache_dir) if cache_dir else Path(out_dir) / "cache",
            checkpoint_every_s,
            leave_bar,
        )


def train_locked(
    config: TrainConfig,
    run_dir: Path,
    progress: bool,
    cache_dir: Path,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    leave_bar: bool = True,
) -> RunRecord:
    """The body of :func:`run`, with the run's lock held."""
    record_path, checkpoint_path = run_dir / RECORD, run_dir / CHECKPOINT
    device = resolve_device(config.device)
    setup = assemble(config, device, cache_dir, progress)
    record = RunRecord(
        config.run_id,
        config.to_dict(),
        git_commit(),
        machine_info(device),
        corrupted=setup.corrupted.nonzero().flatten().tolist(),
        setup_seconds=setup.cost.seconds,
        setup_backprops=setup.cost.backprops,
        setup_cached=setup.cost.cached,
    )
    trainer = Trainer(config, setup, device, record)
    examples = len(setup.train) if setup.among is None else setup.among.numel()
    batches = trainer.candidate_batches.batches_for(examples)
    if batches == 0:
        raise ValueError(
            f"candidate_batch={config.candidate_size} exceeds the {examples} training examples: no full candidate "
            f"batch, so no training step (raise train_fraction={config.train_fraction} or lower candidate_batch)"
        )
    if checkpoint_path.exists():
        try:
            trainer.restore(checkpoint_path)
        except FileProblem as problem:
            set_aside(checkpoint_path, f"{problem.problem}; the run starts over")
            trainer = Trainer(config, assemble(config, device, cache_dir, progress=False), device, record)
    total = config.epochs * batches
    trainer.record.load_average.append(list(os.getloadavg()))
    last_checkpoint = time.monotonic()
    try:
        with (
            InterruptAtEpochEnd() as interrupt,
            tqdm(
                total=total,
                initial=trainer.counters.epoch * batches,
                desc=config.run_id,
                unit="batch",
                disable=not progress,
                leave=leave_bar,
                # a sweep's nested bar (one a run) redraws once a second: in a notebook every redraw is a
                # widget message, and at tqdm's 0.1 s a whole sweep's queue outlasts the cell
                mininterval=0.1 if leave_bar else 1.0,
            ) as bar,
        ):
            while not trainer.finished():
                trainer.run_epoch(bar)
                due = time.monotonic() - last_checkpoint >= checkpoint_every_s
                if (due or interrupt.requested) and not trainer.finished():
                    with trainer.clock("checkpoint"):
                        trainer.checkpoint(checkpoint_path, record_path)
                    last_checkpoint = time.monotonic()
                interrupt.raise_if_requested()
    except Diverged as diverged:
        message = trainer.mark_diverged(diverged)
        trainer.record.save(record_path)
        checkpoint_path.unlink(missing_ok=True)
        warnings.warn(message, DivergenceWarning, stacklevel=3)
        return trainer.record
    with trainer.clock("checkpoint"):
        trainer.sync_record()
        trainer.record.load_average.append(list(os.getloadavg()))
        trainer.record.status, trainer.record.finished = "finished", now()
        trainer.record.save(record_path)
    checkpoint_path.unlink(missing_ok=True)
    return trainer.record


class InterruptAtEpochEnd:
    """While open (in the main thread), Ctrl-C and SIGTERM ask the run to stop at the next epoch
    end, after a checkpoint, instead of at once (a mid-epoch state cannot be resumed exactly);
    a second Ctrl-C stops at once. Then the signal's previous handler runs (a cluster's requeue)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: int | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> InterruptAtEpochEnd:
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self.previous[number] = signal.signal(number, self.request)
        return self

    def request(self, number: int, frame: Any) -> None:
        if self.requested == signal.SIGINT and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = number
        tqdm.write(f"{signal.Signals(number).name}: stopping at the end of this epoch, after a checkpoint")

    def raise_if_requested(self) -> None:
        """Hand a requested stop to the signal's previous handler (Ctrl-C: ``KeyboardInterrupt``)."""
        if self.requested is None:
            return
        number, previous = self.requested, self.previous.get(self.requested, signal.SIG_DFL)
        self.__exit__()
        if callable(previous):
            previous(number, None)
        if number == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + number)

    def __exit__(self, *exc: Any) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        self.previous = {}


@command
def main(argv: list[str] | None = None) -> None:
    """``python -m lossprio.train CONFIG.json [--out DIR]``: one run from a JSON config."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", type=path_argument("file"), help="JSON file of TrainConfig settings")
    parser.add_argument("--out", default="results", type=path_argument())
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--checkpoint-every",
        type=float,
        default=CHECKPOINT_EVERY_S,
        metavar="SECONDS",
        help=f"seconds between checkpoints, written at epoch ends (0: every epoch; default {CHECKPOINT_EVERY_S:g})",
    )
    args = parser.parse_args(argv)
    check_range("--checkpoint-every", args.checkpoint_every, 0.0)
    values = read_json(args.config)
    if not isinstance(values, dict):
        raise FileProblem(args.config, f"holds a JSON {type(values).__name__}, not an object of TrainConfig settings")
    config = TrainConfig.from_dict(values)
    record = run(config, args.out, progress=not args.no_progress, checkpoint_every_s=args.checkpoint_every)
    print(json.dumps({"run_id": record.run_id, "best_test_error": record.best_test_error, "counters": record.counters}))


if __name__ == "__main__":
    main()
