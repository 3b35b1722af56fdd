"""Per-class state of a batched adaptation run: each class's slice of the stacked tensors written and
read in exactly the lone trainer's format (same keys, optimiser state in its parameter order), so a
cache entry or resume checkpoint is interchangeable between the two trainers."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..errors import CacheError
from ..generator.models.lora import load_stacked_lora, stacked_lora_state
from .trainer import STATE_FORMAT, KineMICTrainer


class BatchedTrainerState:
    """Mixed into :class:`~.batched.BatchedKineMICTrainer`: state in and out, one class at a time."""

    def _lone_params(self, k: int) -> List[Tuple[Any, Callable[[Tensor], Tensor]]]:
        """Class ``k``'s optimiser parameters in the lone trainer's order, each as (batched tensor, slicer)."""
        lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
        named = dict(self.target_params)
        out: List[Tuple[Any, Callable[[Tensor], Tensor]]] = []
        for n in self.lone_names:
            p = named[n]
            out.append((p, (lambda t, lo=lo, hi=hi: t[lo:hi]) if n == "embed_action" else (lambda t, k=k: t[k])))
        if self.needs_prior:
            out += [(p, lambda t: t) for p in list(self.mics[k].parameters()) + list(self.heads[k].parameters())]
        return out

    def state_dict(self, k: int, include_optimizer: bool = False) -> Dict[str, Any]:
        """Class ``k``'s state exactly as :meth:`KineMICTrainer.state_dict` writes it."""
        job, head = self.jobs[k], self.heads[k]
        sd: Dict[str, Any] = {
            "format": STATE_FORMAT, "version": 1, "step": self.step, "config": job.cfg.to_dict(),
            "classes": [int(c) for c in (job.classes or range(job.shots.num_classes))],
            "lora": stacked_lora_state(self.target, k) if self.cfg.lora_targets else {},
            "embed_action": self.target.embed_action[self.offsets[k]:self.offsets[k + 1]].detach().cpu().clone(),
            "mic": {n: v.cpu() for n, v in self.mics[k].state_dict().items()},
            "logit_scale": head.logit_scale.detach().cpu().clone(),
            "bank": {"size": head.bank.size, "z": head.bank.z, "y": head.bank.y},
            "history": [{n: float(v) for n, v in h.items()} for h in self.histories[k]],
        }
        if include_optimizer:
            group = {n: v for n, v in self.optimizer.param_groups[0].items() if n != "params"}
            params = self._lone_params(k)
            state: Dict[int, Dict[str, Any]] = {}
            for i, (p, sl) in enumerate(params):
                st = self.optimizer.state.get(p)
                if st:
                    state[i] = {n: (v.clone() if v.dim() == 0 else sl(v).clone()) if torch.is_tensor(v) else v
                                for n, v in st.items()}
            sd["optimizer"] = {"state": state, "param_groups": [{**group, "params": list(range(len(params)))}]}
        return sd

    def load_states(self, states: Sequence[Optional[Dict[str, Any]]]) -> None:
        """Load one lone-format state per job (all at the same step: one step count per stacked tensor)."""
        if len(states) != len(self.jobs):
            raise ValueError(f"{len(states)} states for {len(self.jobs)} jobs")
        steps = {int(s["step"]) if s is not None else 0 for s in states}
        if len(steps) != 1:
            raise CacheError(f"the jobs of one batched run must resume from the same step, got steps {sorted(steps)}")
        if steps == {0}:
            return
        for k, sd in enumerate(states):
            if sd.get("format") != STATE_FORMAT:
                raise CacheError(f"{self.jobs[k].name}: not an adapter state (format={sd.get('format')!r})")
            if self.cfg.lora_targets:
                load_stacked_lora(self.target, k, {n: v.to(self.device) for n, v in sd["lora"].items()})
            lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
            with torch.no_grad():
                if tuple(sd["embed_action"].shape) != (hi - lo, self.target.embed_action.shape[1]):
                    raise CacheError(f"{self.jobs[k].name}: action table shape {tuple(sd['embed_action'].shape)}")
                self.target.embed_action[lo:hi].copy_(sd["embed_action"].to(self.device))
                self.heads[k].logit_scale.copy_(sd["logit_scale"].to(self.device))
            self.mics[k].load_state_dict(sd["mic"])
            bank = sd.get("bank") or {}
            self.heads[k].bank.load_state_dict({"size": bank.get("size", self.cfg.bank_size), "z": bank.get("z"),
                                                "y": bank.get("y")})
            self.histories[k] = [dict(h) for h in sd.get("history", [])]
        self._load_optimizer([s.get("optimizer") for s in states])
        self.step = steps.pop()

    def _load_optimizer(self, opts: List[Optional[Dict[str, Any]]]) -> None:
        if any(o is None for o in opts):
            if all(o is None for o in opts):
                return
            raise CacheError("some resume checkpoints of the group carry optimiser state and some do not")
        stacked_names = {id(p): n for n, p in self.target_params}
        gathered: Dict[int, Tuple[str, Tensor, Dict[str, List[Tensor]]]] = {}
        for k, opt in enumerate(opts):
            params = self._lone_params(k)
            if len(opt["param_groups"][0]["params"]) != len(params):
                raise CacheError(f"{self.jobs[k].name}: optimiser state for {len(opt['param_groups'][0]['params'])} "
                                 f"parameters, this trainer has {len(params)}")
            for i, st in opt["state"].items():
                p, _ = params[int(i)]
                if id(p) in stacked_names:  # a slice of a tensor shared by the group: gather, then stack
                    entry = gathered.setdefault(id(p), (stacked_names[id(p)], p, {}))[2]
                    for n, v in st.items():
                        entry.setdefault(n, []).append(v)
                else:  # the class's own MIC / head parameter
                    self.optimizer.state[p] = {n: v.to(p.device) if torch.is_tensor(v) and v.dim() else v
                                               for n, v in st.items()}
        for name, p, entry in gathered.values():
            st: Dict[str, Any] = {}
            for n, vs in entry.items():
                if len(vs) != len(self.jobs):
                    raise CacheError(f"optimiser state '{n}' of {name} is missing for some classes of the group")
                if torch.is_tensor(vs[0]) and vs[0].dim() == 0:  # AdamW's step count: one per tensor
                    if any(not torch.equal(v, vs[0]) for v in vs):
                        raise CacheError(f"optimiser '{n}' of {name} differs between the classes of one group")
                    st[n] = vs[0].clone()
                elif name == "embed_action":  # each class's rows, in order
                    st[n] = torch.cat(list(vs)).to(p.device)
                else:
                    st[n] = torch.stack(list(vs)).to(p.device)
                if torch.is_tensor(st[n]) and st[n].dim() and tuple(st[n].shape) != tuple(p.shape):
                    raise CacheError(f"optimiser state '{n}' of {name}: shape {tuple(st[n].shape)} != {tuple(p.shape)}")
            self.optimizer.state[p] = st
