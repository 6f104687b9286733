from compiler_fixtures import cyclegan, grid, grid_schema, product, schema

from category import Schema
from compiler import Plan
from compiler.plan import PASSES, collect, needed_generators


def test_cyclegan_trie_shares_prefixes():
    S = schema("cyclegan")
    plan = Plan.build(S, data=S.objects())
    # f(x_H), g(f(x_H)), g(x_Z), f(g(x_Z)): four network calls; each loss alone needs six
    assert [str(n.path) for n in plan.applications] == ["f", "f.g", "g", "g.f"]
    naive = sum(len(p) for loss in plan.losses for p in loss.paths)
    assert naive == 6
    f_node = plan.nodes[1]
    assert f_node.consumers == ["adv:f"] and plan.nodes[2].parent == f_node.id
    assert [loss.name for loss in plan.losses] == [
        "adv:f", "adv:g", "eq:f.g = id(Horse)", "eq:g.f = id(Zebra)"]


def test_plan_is_a_pipeline_of_named_passes():
    S = schema("cyclegan")
    only_collect = Plan.build(S, data=S.objects(), passes=(collect,))
    assert only_collect.nodes == [] and len(only_collect.evaluations) == 6
    assert [p.__name__ for p in PASSES] == ["collect", "build_trie", "attach_critics"]


def test_objects_without_data_get_no_losses():
    S = schema("cyclegan")
    plan = Plan.build(S, data=[S["Horse"]])
    assert [loss.name for loss in plan.losses] == ["adv:f", "eq:f.g = id(Horse)"]
    assert any("no data for Zebra" in n for n in plan.notes)


def test_needed_generators_use_transitive_reduction_when_available():
    S = schema("cyclegan")
    assert needed_generators(S) == S.arrows

    class Reduced(Schema):
        def transitive_reduction(self):
            R = Schema("R")
            R.objects("Horse", "Zebra")
            R.arrow("f", "Horse", "Zebra")
            return R

    R = Reduced("CycleGAN")
    H, Z = R.objects("Horse", "Zebra")
    R.arrow("f", H, Z)
    R.arrow("g", Z, H)
    assert [a.name for a in needed_generators(R)] == ["f"]


def test_printed_plan_shows_trie_groups_and_losses():
    prog = cyclegan()
    text = str(prog.plan)
    assert "[2] f.g" in text and "← eq:f.g = id(Horse)" in text
    assert "depth 1: stacked ×2 over bank A0: f→[1], g→[4]" in text
    assert "depth 2: stacked ×2 over bank A0: f→[5], g→[2]" in text  # bank order
    assert "C0: Sequential ×2" in text


def test_product_codomain_gets_one_critic_per_factor():
    prog = product(priors={"C": "normal"})
    names = [c.name for c in prog.plan.critics]
    assert names == ["critic:B", "critic:C", "critic:A"]
    adv_f = prog.plan.losses[0]
    assert [(str(o), k) for o, k in adv_f.critics] == [("B", 0), ("C", 1)]


def test_grid_fuses_each_depth_into_one_call():
    S = grid_schema(3)
    assert len(S.arrows) == 12 and len(S.equations) == 4
    prog = grid(3)
    calls = prog.plan.calls
    assert [len(c.nodes) for c in calls] == [12, 8]   # depth 1: every arrow; depth 2: squares
    assert all(c.fused for c in calls)
    assert len(prog.plan.critic_groups) == 1 and prog.plan.critic_groups[0].size == 8


def test_no_fusion_gives_one_call_per_node():
    prog = grid(3, fuse=False)
    assert len(prog.plan.calls) == 20 and not any(c.fused for c in prog.plan.calls)
