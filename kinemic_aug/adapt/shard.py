"""Adapting many classes in batched groups, across processes, resumable, each class trained once.

:func:`adapt_jobs` takes every class's adapter job with its cache key and makes sure each one ends up
in the cache:

1. classes already cached are skipped;
2. the rest is shared out over the processes of a distributed run (``torchrun --nproc_per_node N``,
   MMEngine's launchers: the rank and world size come from ``torch.distributed`` when it is initialised,
   else from the ``RANK`` / ``WORLD_SIZE`` environment variables those launchers set): rank ``r`` starts
   with every ``N``-th class from the ``r``-th;
3. a process takes a class's cache lock (:meth:`~.cache.ArtifactCache.try_lock`, one lock file per
   class key) before training it, so two processes, or two runs on one cache, never train the same
   class at once; a class locked elsewhere is left to its holder;
4. locked classes are trained together, ``group_size`` at a time, by
   :class:`~.batched.BatchedKineMICTrainer` (classes resuming from the same step form one group); each
   class's resume checkpoint and final entry are written atomically, and its lock is released as soon
   as its entry is in the cache;
5. a process that has finished its share takes over any class still missing whose lock is free: one
   not yet started by a slower process, or one whose process died (the kernel released its lock; its
   resume checkpoint says where to continue), and otherwise waits for the holders to finish.

So a rank killed mid-run leaves no half-written adapter (only complete resume checkpoints), and a
rerun trains only what is missing, each class from its last checkpoint.

An out-of-memory error in a group splits it in halves (a warning says so) and later groups use the
smaller size; a single class that does not fit is an error.
"""
from __future__ import annotations

import gc
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..errors import CacheError
from .batched import AdapterJob, BatchedKineMICTrainer
from .cache import ArtifactCache, HeldLock
from .trainer import KineMICTrainer

log = logging.getLogger(__name__)

KIND = "adapter"


@dataclass
class AdapterSpec:
    """One class's adapter job and where it goes: cache ``key`` and the ``parts`` recorded in its meta."""

    job: AdapterJob
    key: str
    parts: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What happened to one class: ``"cached"`` (in the cache before this process looked),
    ``"trained"`` (by this process), ``"elsewhere"`` (by another process or run while this one waited)."""

    key: str
    name: str
    status: str
    seconds: float = 0.0
    rank: int = 0
    group: int = 0
    resumed_from: int = 0


def resolve_rank(rank: Optional[int] = None, world_size: Optional[int] = None) -> Tuple[int, int]:
    """``(rank, world_size)``: the arguments, else the initialised ``torch.distributed`` group, else the
    ``RANK`` / ``WORLD_SIZE`` variables of torchrun and MMEngine's launchers, else ``(0, 1)``."""
    if rank is not None and world_size is not None:
        r, w = int(rank), int(world_size)
    else:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            r, w = dist.get_rank(), dist.get_world_size()
        else:
            r, w = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if w < 1 or not 0 <= r < w:
        raise ValueError(f"rank {r} is not in a world of {w} processes")
    return r, w


def is_out_of_memory(e: BaseException) -> bool:
    """A CUDA or CPU allocation failure (torch raises RuntimeError subclasses for both)."""
    if isinstance(e, MemoryError):
        return True
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(e, oom):
        return True
    msg = str(e)
    return isinstance(e, RuntimeError) and ("out of memory" in msg or "can't allocate memory" in msg
                                            or "not enough memory" in msg)


def _progress_step(path: Path) -> int:
    """The step a resume checkpoint is at (0 if there is none); a corrupt one is moved aside."""
    if not path.exists():
        return 0
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return int(sd["step"])
    except Exception as e:  # unreadable: start the class again rather than fail the run
        dest = path.with_name(path.name + f".corrupt-{int(time.time() * 1000)}")
        warnings.warn(f"resume checkpoint {path} is unreadable ({type(e).__name__}); the class starts again "
                      f"(moved aside as {dest.name})")
        try:
            os.replace(path, dest)
        except OSError:
            path.unlink(missing_ok=True)
        return 0


class _Runner:
    def __init__(self, base, schedule, cache: ArtifactCache, specs: Sequence[AdapterSpec], rank: int, world: int,
                 group_size: int, batched: bool, poll: float, wait_timeout: Optional[float],
                 micro_classes: Optional[int],
                 callback: Optional[Callable[[List[AdapterSpec], List[Dict[str, float]]], None]]):
        self.base, self.schedule, self.cache = base, schedule, cache
        self.specs = list(specs)
        self.rank, self.world = rank, world
        self.group_size = max(1, int(group_size))
        self.batched = batched
        self.poll, self.wait_timeout = poll, wait_timeout
        self.callback = callback
        self.micro_classes = micro_classes
        self.outcomes: Dict[str, Outcome] = {}
        self.groups = 0

    # ------------------------------------------------------------------ cache state
    def done(self, s: AdapterSpec) -> bool:
        if self.cache.meta(KIND, s.key) is not None and (self.cache.entry_dir(KIND, s.key) / "payload.pt").exists():
            return True
        return False

    def _lock(self, s: AdapterSpec) -> Optional[HeldLock]:
        held = self.cache.try_lock(KIND, s.key, {"rank": self.rank, "world": self.world, "class": s.job.name})
        if held is not None and self.done(s):  # finished by someone else since we looked
            held.release()
            self.outcomes[s.key] = Outcome(s.key, s.job.name, "elsewhere", rank=self.rank)
            return None
        return held

    # ------------------------------------------------------------------ main loop
    def run(self) -> Dict[str, Outcome]:
        pending = []
        for s in self.specs:
            if self.done(s):
                self.outcomes[s.key] = Outcome(s.key, s.job.name, "cached", rank=self.rank)
            else:
                pending.append(s)
        mine = pending[self.rank::self.world]
        log.info("rank %d/%d: %d of %d classes to adapt, %d of them first here", self.rank, self.world, len(pending),
                 len(self.specs), len(mine))
        i = 0
        while i < len(mine):  # the share first, a group at a time (the group size may shrink on OOM)
            n = self._take()
            self._take_and_train(mine[i:i + n])
            i += n
        waited_since, last_note = None, 0.0
        while True:
            left = [s for s in pending if s.key not in self.outcomes]
            for s in left:
                if self.done(s):
                    self.outcomes[s.key] = Outcome(s.key, s.job.name, "elsewhere", rank=self.rank)
            left = [s for s in left if s.key not in self.outcomes]
            if not left:
                return self.outcomes
            if self._take_and_train(left, limit=self._take()):
                waited_since = None
                continue
            now = time.monotonic()
            waited_since = waited_since or now
            if now - last_note > 60:
                last_note = now
                log.info("rank %d: waiting for %d classes held elsewhere: %s", self.rank, len(left), self._holders(left))
            if self.wait_timeout is not None and now - waited_since > self.wait_timeout:
                raise CacheError(f"waited {self.wait_timeout:.0f} s for {len(left)} classes trained elsewhere: "
                                 f"{self._holders(left)}")
            time.sleep(self.poll)

    def _take(self) -> int:
        """How many classes to lock at once: a group, or one when training one class at a time (a lock
        held on a class not being trained would keep an idle process from taking it over)."""
        return self.group_size if self.batched else 1

    def _holders(self, specs: Sequence[AdapterSpec]) -> str:
        out = []
        for s in specs[:5]:
            h = self.cache.lock_holder(KIND, s.key)
            if h is None:
                out.append(f"{s.job.name}: free")
            else:
                age = time.time() - float(h.get("beat", h.get("since", time.time())))
                out.append(f"{s.job.name}: {h.get('host', '?')} pid {h.get('pid', '?')} rank {h.get('rank', '?')}, "
                           f"last heartbeat {age:.0f} s ago")
        return "; ".join(out) + (f" (+{len(specs) - 5} more)" if len(specs) > 5 else "")

    def _take_and_train(self, candidates: Sequence[AdapterSpec], limit: Optional[int] = None) -> int:
        """Lock what is free among ``candidates`` (at most ``limit``) and train it; returns how many."""
        held: List[Tuple[AdapterSpec, HeldLock]] = []
        for s in candidates:
            if limit is not None and len(held) >= limit:
                break
            if s.key in self.outcomes:
                continue
            lk = self._lock(s)
            if lk is not None:
                held.append((s, lk))
        if not held:
            return 0
        try:
            self._train(held)
        finally:
            for _, lk in held:
                lk.release()
        return len(held)

    # ------------------------------------------------------------------ training
    def _train(self, held: List[Tuple[AdapterSpec, HeldLock]]) -> None:
        """Group by resume step, then by ``group_size``; each group falls back to halves on OOM."""
        by_step: Dict[int, List[Tuple[AdapterSpec, HeldLock]]] = {}
        for s, lk in held:
            by_step.setdefault(_progress_step(self.cache.progress_path(KIND, s.key)), []).append((s, lk))
        for step, items in sorted(by_step.items()):
            i = 0
            while i < len(items):
                n = self.group_size if self.batched else 1
                self._run_group(items[i:i + n], step)
                i += n

    def _run_group(self, items: List[Tuple[AdapterSpec, HeldLock]], step: int) -> None:
        specs = [s for s, _ in items]
        ckpts = [self.cache.progress_path(KIND, s.key) for s in specs]
        last_beat = [time.monotonic()]

        def beat(logs: Any) -> None:
            if time.monotonic() - last_beat[0] > 5.0:
                last_beat[0] = time.monotonic()
                for _, lk in items:
                    lk.heartbeat(step=int(logs[0]["step"]) if isinstance(logs, list) else int(logs["step"]))
            if self.callback is not None:
                self.callback(specs, logs if isinstance(logs, list) else [logs])

        t0 = time.time()
        trainer: Any = None
        oom = ""
        try:
            if len(specs) == 1 and not self.batched:
                j = specs[0].job
                trainer = KineMICTrainer(self.base, self.schedule, j.shots, j.pool, j.cfg, classes=j.classes)
                trainer.train(checkpoint=ckpts[0], callback=beat)
                states = [trainer.state_dict()]
            else:
                trainer = BatchedKineMICTrainer(self.base, self.schedule, [s.job for s in specs],
                                                micro_classes=self.micro_classes)
                trainer.train(checkpoints=ckpts, callback=beat)
                states = [trainer.state_dict(k) for k in range(len(specs))]
        except Exception as e:
            if not is_out_of_memory(e) or len(specs) == 1:
                raise
            oom = f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
        if oom:  # outside the except block, so the failed attempt's tensors (held by the traceback) are freed
            trainer = None
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            half = math.ceil(len(specs) / 2)
            self.group_size = min(self.group_size, half)
            warnings.warn(f"out of memory adapting {len(specs)} classes together ({oom}); retrying in groups of {half}")
            self._train(items[:half])
            self._train(items[half:])
            return
        del trainer
        self.groups += 1
        secs = (time.time() - t0) / len(specs)
        for (s, lk), sd in zip(items, states):
            self.cache.save(KIND, s.key, sd, parts=s.parts)
            lk.release()
            self.outcomes[s.key] = Outcome(s.key, s.job.name, "trained", seconds=secs, rank=self.rank,
                                           group=len(specs), resumed_from=step)


def adapt_jobs(base, schedule, cache: ArtifactCache, specs: Sequence[AdapterSpec], *, rank: Optional[int] = None,
               world_size: Optional[int] = None, group_size: int = 20, batched: bool = True, poll: float = 1.0,
               wait_timeout: Optional[float] = None, micro_classes: Optional[int] = None,
               callback: Optional[Callable[[List[AdapterSpec], List[Dict[str, float]]], None]] = None
               ) -> Dict[str, Outcome]:
    """Make sure every spec's adapter is in ``cache`` (see the module docstring); returns one
    :class:`Outcome` per key. ``base`` is used as the frozen prior stream (moved to the device, eval mode,
    gradients off: pass a copy you do not train elsewhere). ``batched=False`` trains one class at a time
    with :class:`~.trainer.KineMICTrainer` (same adapters, same sharding and locks). ``wait_timeout``:
    seconds to wait for classes another live process holds before raising (default: as long as it lives).
    ``micro_classes``: classes per forward/backward pass of a batched group (default: the device's,
    :data:`~.batched.DEFAULT_MICRO_CLASSES`)."""
    r, w = resolve_rank(rank, world_size)
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("two adapter specs share one cache key")
    return _Runner(base, schedule, cache, specs, r, w, group_size, batched, poll, wait_timeout, micro_classes,
                   callback).run()
