"""CycleGAN's image pool, as pure tensor functions that trace into the step's graph.

A pool keeps a history of ``size`` fakes per fake input of the critics, so that a
critic is trained against the generators' past outputs as well as their newest (Shrivastava
et al. 2017; CycleGAN's ``ImagePool``). Per sample of a batch: while the pool is not
full the new fake is stored and used; once full, with probability 1/2 it is swapped
with a random stored fake (the old one is used, the new one stored), otherwise the new
one is used and not stored.

Everything random is drawn *outside* the graph with torch's global generator
(:meth:`FakePool.draws`) and passed in, and the fill count is a tensor, not a Python
int: the compiled step neither breaks, synchronises nor recompiles as the pool fills,
restoring torch's RNG state replays a run exactly, and eager and compiled programs
draw the same numbers. The update is functional: :func:`query` returns the new pool,
which the program keeps.

>>> import torch
>>> pool, count = torch.zeros(3, 1), torch.tensor(0)
>>> fake = torch.tensor([[1.0], [2.0]])
>>> out, pool = query(pool, count, fake, torch.zeros(2), torch.tensor([0, 1]))
>>> out.flatten().tolist(), pool.flatten().tolist()   # filling: stored and used
([1.0, 2.0], [1.0, 2.0, 0.0])
>>> out, pool = query(pool, torch.tensor(2), torch.tensor([[3.0], [4.0]]),
...                   torch.tensor([0.9, 0.1]), torch.tensor([2, 0]))
>>> out.flatten().tolist(), pool.flatten().tolist()   # 3 fills the last slot; 4 swaps with slot 0
([3.0, 1.0], [4.0, 2.0, 3.0])
"""

from __future__ import annotations

import torch

from .errors import CompilerError


def shard_rand(n: int, rank: int = 0, world: int = 1, **kw) -> torch.Tensor:
    """``torch.rand(n)`` for samples ``rank*n … (rank+1)*n`` of a batch of ``world*n``:
    the numbers one process would draw for this rank's slice of the global batch (and as
    much of the generator's stream). ``world=1``: plainly ``torch.rand(n)``.

    >>> _ = torch.manual_seed(0); whole = torch.rand(4)
    >>> _ = torch.manual_seed(0); torch.equal(shard_rand(2, 1, 2), whole[2:])
    True
    """
    if world == 1:
        return torch.rand(n, **kw)
    return torch.rand(n * world, **kw)[rank * n:(rank + 1) * n].clone()


def query(pool: torch.Tensor, count: torch.Tensor, fake: torch.Tensor, coin: torch.Tensor,
          slot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What the critic sees for ``fake`` ``[B, …]``, and the new ``pool`` ``[N, …]``.

    ``count`` (0-dim int64 tensor): how many slots are filled before this batch; sample
    ``i`` fills slot ``count + i`` while that is below ``N``. Past that, sample ``i`` swaps
    with slot ``slot[i]`` when ``coin[i] < 0.5`` and the slot was filled before this batch.
    ``slot`` must hold distinct values (``randperm(max(N, B))[:B]``): no two samples read
    or write the same slot, and swap slots (``< count``) never meet the slots being
    filled (``≥ count``), so the result does not depend on the order of the samples.
    With ``B > N`` at most ``N`` samples swap in one batch (slots ``≥ N`` never swap).
    No gradient flows into or out of the pool.
    """
    n, b = pool.shape[0], fake.shape[0]
    fake = fake.detach()
    pos = count + torch.arange(b, device=fake.device)
    fill = pos < n
    swap = ~fill & (coin < 0.5) & (slot < count)
    lead = (b,) + (1,) * (fake.dim() - 1)
    old = pool.index_select(0, slot.clamp(max=n - 1))
    out = torch.where(swap.view(lead), old, fake)
    # the one writer of each slot (at most one, by the distinctness above), or none
    write = torch.where(fill, pos, torch.where(swap, slot, torch.full_like(slot, n)))
    hits = write[None, :] == torch.arange(n, device=fake.device)[:, None]  # [N, B]
    source = hits.to(torch.int64).argmax(1)
    written = hits.any(1).view((n,) + (1,) * (fake.dim() - 1))
    new = torch.where(written, fake.index_select(0, source), pool)
    return out, new


def query_all(fakes: list[torch.Tensor], state: tuple) -> tuple[list[torch.Tensor], tuple]:
    """:func:`query` for every fake input; ``state`` is ``(pools, count, coins, slots)``
    as :meth:`FakePool.inputs` gives it. Returns the fakes the critics see and
    ``(new pools, new count)`` for :meth:`FakePool.commit`."""
    pools, count, coins, slots = state
    outs, new = [], []
    for fake, pool, coin, slot in zip(fakes, pools, coins, slots, strict=True):
        o, p = query(pool, count, fake, coin, slot)
        outs.append(o)
        new.append(p)
    b = fakes[0].shape[0] if fakes else 0
    return outs, (tuple(new), torch.clamp(count + b, max=pools[0].shape[0] if pools else 0))


class FakePool:
    """The pools of one program: one buffer ``[size, …]`` per fake input of the critics
    (named ``names``, of sample ``shapes``) and one shared fill count."""

    def __init__(self, size: int, names: list[str], shapes: list[tuple[int, ...]],
                 device: torch.device, dtype: torch.dtype):
        self.size, self.names = size, list(names)
        self.device, self.dtype = device, dtype
        self.buffers = tuple(torch.zeros((size, *s), device=device, dtype=dtype)
                             for s in shapes)
        self.count = torch.zeros((), dtype=torch.int64, device=device)

    def draws(self, batch_size: int, shard: tuple[int, int] = (0, 1)
              ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The random numbers of one query, from torch's global generator: per fake a
        coin per sample and distinct slots. ``shard=(rank, world)``: the coins of this
        rank's slice of a global batch of ``world * batch_size`` (data-parallel: the ranks
        do not all toss the same coins)."""
        coins, slots = [], []
        rank, world = shard
        for _ in self.buffers:
            coins.append(shard_rand(batch_size, rank, world, device=self.device,
                                    dtype=self.dtype))
            slots.append(torch.randperm(max(self.size, batch_size),
                                        device=self.device)[:batch_size])
        return coins, slots

    def inputs(self, batch_size: int, shard: tuple[int, int] = (0, 1)) -> tuple:
        """``(pools, count, coins, slots)`` for :func:`query_all` (draws the coins)."""
        coins, slots = self.draws(batch_size, shard)
        return self.buffers, self.count, tuple(coins), tuple(slots)

    def commit(self, new: tuple) -> None:
        """Keep the pools and count a query returned."""
        buffers, count = new
        self.buffers, self.count = tuple(b.detach() for b in buffers), count.detach()

    def state_dict(self) -> dict[str, torch.Tensor]:
        out = {"fake_pool:count": self.count}
        out.update({f"fake_pool:{n}": b for n, b in zip(self.names, self.buffers, strict=True)})
        return out

    def load_state_dict(self, state: dict) -> None:
        expected = self.state_dict()
        problems = [f"missing {k}" for k in expected if k not in state]
        problems += [f"unexpected {k}" for k in state if k not in expected]
        for k, v in expected.items():
            if k not in state:
                continue
            got = state[k]
            if k == "fake_pool:count":
                ok = (isinstance(got, int) and not isinstance(got, bool)) or (
                    isinstance(got, torch.Tensor) and got.dim() == 0
                    and not got.is_floating_point() and got.dtype != torch.bool)
                if not ok or not 0 <= int(got) <= self.size:
                    problems.append(f"{k}: expected an integer in [0, {self.size}], got {got!r}")
            elif not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(v.shape):
                problems.append(f"{k}: expected a tensor of shape {tuple(v.shape)}, got "
                                f"{tuple(got.shape) if isinstance(got, torch.Tensor) else got!r}")
        if problems:
            raise CompilerError("program state does not match this program (fake_pool="
                                f"{self.size}): " + "; ".join(problems))
        self.count = torch.as_tensor(int(state["fake_pool:count"]), dtype=torch.int64,
                                     device=self.device).clone()
        self.buffers = tuple(state[f"fake_pool:{n}"].detach().to(self.device, self.dtype).clone()
                             for n in self.names)
