"""The fake pool (CycleGAN's image pool): its query, and how programs use and keep it."""

import pytest
import torch
from compiler_fixtures import cyclegan, cyclegan_batch, mlp, schema

from compiler import CompilerError, Euclid, Functor, FunctorError, compile_functor
from compiler.pool import FakePool, query, query_all


def rows(n: int, start: float = 0.0) -> torch.Tensor:
    return (torch.arange(n, dtype=torch.float32) + start).view(n, 1).repeat(1, 2)


def test_a_filling_pool_stores_and_returns_the_new_fakes():
    pool, fake = torch.zeros(5, 2), rows(3, 1.0)
    out, new = query(pool, torch.tensor(0), fake, torch.zeros(3), torch.tensor([4, 1, 2]))
    assert torch.equal(out, fake)   # the coins would swap, but nothing is stored yet
    assert torch.equal(new[:3], fake) and torch.equal(new[3:], torch.zeros(2, 2))
    (out,), (pools, count) = query_all([fake], ((new,), torch.tensor(3), (torch.zeros(3),),
                                                (torch.tensor([0, 4, 3]),)))
    # samples 0, 1 fill slots 3, 4; sample 2 would swap with slot 3, but only slots
    # filled before this batch (< 3) are swapped: slot 3, being filled, is never read
    assert count.item() == 5
    assert torch.equal(pools[0][3:], fake[:2]) and torch.equal(out[:2], fake[:2])
    assert torch.equal(out[2], fake[2]) and torch.equal(pools[0][:3], new[:3])


def test_a_full_pool_swaps_where_the_coin_says():
    pool, fake = rows(4, 100.0), rows(3)
    coin, slot = torch.tensor([0.2, 0.7, 0.4]), torch.tensor([3, 0, 1])
    out, new = query(pool, torch.tensor(4), fake, coin, slot)
    assert torch.equal(out, torch.stack([pool[3], fake[1], pool[1]]))
    assert torch.equal(new, torch.stack([pool[0], fake[2], pool[2], fake[0]]))


def test_a_full_pool_does_not_depend_on_the_order_of_the_samples():
    torch.manual_seed(0)
    pool, fake = torch.randn(6, 2), torch.randn(5, 2)
    coin, slot = torch.rand(5), torch.randperm(6)[:5]
    out, new = query(pool, torch.tensor(6), fake, coin, slot)
    perm = torch.randperm(5)
    out2, new2 = query(pool, torch.tensor(6), fake[perm], coin[perm], slot[perm])
    assert torch.equal(out2, out[perm]) and torch.equal(new2, new)
    # a swap exchanges a fake and a stored one: nothing lost, nothing duplicated
    assert 0 < (out != fake).any(1).sum() < 5
    assert sorted(map(tuple, torch.cat([out, new]).tolist())) == sorted(
        map(tuple, torch.cat([fake, pool]).tolist()))


def test_batches_larger_than_the_pool_swap_each_slot_at_most_once():
    state = FakePool(3, ["f"], [(1,)], torch.device("cpu"), torch.float32)
    state.buffers = (rows(3, 100.0)[:, :1],)
    state.count = torch.tensor(3)
    torch.manual_seed(1)
    fake = rows(8)[:, :1]
    (out,), (pools, _) = query_all([fake], state.inputs(8))
    swapped = (out != fake).flatten()
    assert 0 < swapped.sum() <= 3
    assert sorted(out[swapped].flatten().tolist()) == sorted(
        v for v in [100.0, 101.0, 102.0] if v not in pools[0].flatten().tolist())


def test_half_the_samples_of_a_full_pool_are_swapped():
    state = FakePool(50, ["f"], [(1,)], torch.device("cpu"), torch.float32)
    state.count = torch.tensor(50)
    torch.manual_seed(2)
    swaps = 0
    for _ in range(200):
        (out,), _ = query_all([torch.full((16, 1), -1.0)], state.inputs(16))
        swaps += int((out != -1).sum())
    assert abs(swaps / (200 * 16) - 0.5) < 0.03


def test_only_the_critic_losses_read_the_pool():
    b = cyclegan_batch()
    pooled, plain = cyclegan(fake_pool=8), cyclegan()
    # a first step stores and uses the new fakes: it is the step without a pool
    first, reference = pooled.step(b), plain.step(b)
    assert all(torch.equal(first[k], reference[k]) for k in reference)
    assert pooled.state_dict()["fake_pool:count"].item() == 8
    # a full pool of far-away fakes: the critics see some, the generators none
    state = pooled.state_dict()
    far = {k: v if k.endswith("count") else torch.full_like(v, 50.0) for k, v in state.items()}
    pooled.load_state_dict(far)
    torch.manual_seed(0)
    g1, c1 = pooled.generator_losses(b), pooled.critic_losses(b)
    torch.manual_seed(0)
    g2, c2 = plain.generator_losses(b), plain.critic_losses(b)
    assert all(torch.equal(g1[k], g2[k]) for k in g2)
    assert all(not torch.allclose(c1[k], c2[k]) for k in c2)
    pooled.load_state_dict(far)  # critic_losses stored some of the current fakes
    second, reference = pooled.step(b), plain.step(b)
    assert all(torch.equal(second[k], reference[k]) for k in g2)
    assert not torch.equal(second["critic_total"], reference["critic_total"])


def test_every_entry_point_updates_the_pool_and_a_refused_step_none():
    prog = cyclegan(fake_pool=16)
    counts = []
    for call in (prog.critic_losses, prog.critic_step, prog.step):
        call(cyclegan_batch(n=4))
        counts.append(prog.state_dict()["fake_pool:count"].item())
    assert counts == [4, 8, 12]
    before = {k: v.clone() for k, v in prog.state_dict().items()}
    bad = cyclegan_batch(n=4)
    bad["Horse"][0, 0] = float("nan")
    for call in (prog.step, prog.critic_step):
        with pytest.raises(CompilerError, match="not applied"):
            call(bad)
    assert all(torch.equal(before[k], v) for k, v in prog.state_dict().items())


def test_pool_state_round_trips_and_mismatches_are_named():
    prog = cyclegan(fake_pool=4)
    assert cyclegan().state_dict() == {} and cyclegan().fake_pool == 0
    prog.step(cyclegan_batch(n=3))
    state = {k: v.clone() for k, v in prog.state_dict().items()}
    assert sorted(state) == ["fake_pool:count", "fake_pool:f", "fake_pool:g"]
    other = cyclegan(fake_pool=4)
    other.load_state_dict(state)
    assert all(torch.equal(state[k], v) for k, v in other.state_dict().items())
    state["fake_pool:count"] = 3  # an int is fine too
    other.load_state_dict(state)
    with pytest.raises(CompilerError, match=r"fake_pool:f: expected a tensor of shape \(5, 2\)"
                                            r", got \(4, 2\)"):
        cyclegan(fake_pool=5).load_state_dict(state)
    with pytest.raises(CompilerError, match="missing fake_pool:g; unexpected fake_pool:h"):
        other.load_state_dict({**{k: v for k, v in state.items() if k != "fake_pool:g"},
                               "fake_pool:h": state["fake_pool:f"]})
    with pytest.raises(CompilerError, match=r"no fake_pool\): unexpected fake_pool:count"):
        cyclegan().load_state_dict(state)
    with pytest.raises(CompilerError, match=r"count: expected an integer in \[0, 4\]"):
        other.load_state_dict({**state, "fake_pool:count": 9})


@pytest.mark.parametrize("bad", [-1, 2.5, True, "4"])
def test_bad_pool_sizes_fail_at_compile_time(bad):
    with pytest.raises(FunctorError, match=f"fake_pool must be an integer ≥ 0.*got {bad!r}"):
        cyclegan(fake_pool=bad, lr=-1.0)   # reported with the other problems
    with pytest.raises(FunctorError, match="lr must be"):
        cyclegan(fake_pool=bad, lr=-1.0)


def test_the_pool_lives_in_the_networks_dtype():
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": mlp(2, 2).double(), "g": mlp(2, 2).double()})
    prog = compile_functor(F, critics={"Horse": mlp(2, 1).double(), "Zebra": mlp(2, 1).double()},
                           backend="eager", fake_pool=3)
    prog.step({k: v.double() for k, v in cyclegan_batch(n=2).items()})
    state = prog.state_dict()
    assert state["fake_pool:f"].dtype == torch.float64 and state["fake_pool:count"].item() == 2
