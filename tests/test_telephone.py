"""bplib.telephone: the whisper game, the threaded line and its message counts."""

import math
import random
import string

import numpy as np
import pytest

import autograd.numpy as anp
from autograd import grad

from bplib.telephone import (ALPHABET, backward_messages, connections, forward_messages,
                             gradient_cost_table, judge_broadcast, judge_cost, letter_error,
                             line_cost, numeric_pass, pass_along, simulated_line_error,
                             threaded_line, whisper)

SENTENCE = "The quick brown fox jumps over the lazy dog, 3 times!"


def test_alphabet():
    assert ALPHABET == string.ascii_lowercase


def test_whisper_changes_only_letters_and_keeps_case():
    for seed in range(20):
        heard = whisper(SENTENCE, 0.5, rng=seed)
        assert len(heard) == len(SENTENCE)
        for said, got in zip(SENTENCE, heard, strict=True):
            if said in string.ascii_letters:
                assert got in string.ascii_letters and said.isupper() == got.isupper()
            else:
                assert got == said


def test_whisper_rate_0_and_1():
    assert whisper(SENTENCE, 0, rng=1) == SENTENCE
    assert whisper(SENTENCE, 0.0, rng=2) == SENTENCE
    heard = whisper(SENTENCE, 1, rng=3)
    assert all(a != b for a, b in zip(SENTENCE, heard, strict=True) if a in string.ascii_letters)


def test_whisper_leaves_non_ascii_letters_alone():
    assert whisper("café ñ Ω", 1.0, rng=0)[3:] == "é ñ Ω"


def test_whisper_replacement_is_any_other_letter():
    heard = whisper("a" * 5000, 1.0, rng=4)
    assert "a" not in heard
    assert set(heard) == set(ALPHABET) - {"a"}  # all 25 others, about 200 times each


def test_whisper_empirical_rate():
    text = "abcdefghijklmnopqrstuvwxyz" * 800  # 20 800 letters
    for error_rate in (0.05, 0.3, 0.8):
        # sd of the observed rate is at most 0.0035; allow six of them.
        assert letter_error(text, whisper(text, error_rate, rng=5)) == pytest.approx(
            error_rate, abs=0.02)


def test_whisper_seeds_reproduce():
    assert whisper(SENTENCE, 0.4, rng=11) == whisper(SENTENCE, 0.4, rng=np.random.default_rng(11))
    assert whisper(SENTENCE, 0.4, rng=11) != whisper(SENTENCE, 0.4, rng=12)


@pytest.mark.parametrize("bad_rate", [-0.1, 1.5, math.nan, math.inf, "0.5", None, True])
def test_whisper_bad_rate(bad_rate):
    with pytest.raises(ValueError, match=r"error_rate must be a number in \[0, 1\]"):
        whisper(SENTENCE, bad_rate)


def test_whisper_bad_sentence_and_rng():
    with pytest.raises(ValueError, match="sentence must be a str"):
        whisper(["a", "b"], 0.1)
    with pytest.raises(ValueError, match="rng must be"):
        whisper(SENTENCE, 0.1, rng=0.5)


def test_pass_along():
    said = pass_along(SENTENCE, [0.1, 0.2, 0.3], rng=0)
    assert len(said) == 3 and SENTENCE not in said
    assert pass_along(SENTENCE, [0, 0], rng=0) == [SENTENCE, SENTENCE]
    first, second = pass_along(SENTENCE, [0, 1], rng=0)
    assert first == SENTENCE
    assert letter_error(first, second) == 1.0  # player 2 whispers on what player 1 said
    first, second = pass_along(SENTENCE, [1, 0], rng=0)
    assert second == first != SENTENCE
    with pytest.raises(ValueError, match="one rate per player"):
        pass_along(SENTENCE, [])
    with pytest.raises(ValueError, match="error_rate"):
        pass_along(SENTENCE, [0.1, 2])


def test_letter_error_by_hand():
    assert letter_error("abcdefghij", "abcdefghiX") == 0.1  # 1 of 10 letters
    assert letter_error("Hello, world!", "Jello, world!") == 0.1  # 10 letters, 1 changed
    assert letter_error("Hello, world!", "Hello, world!") == 0.0
    assert letter_error("ab cd", "xy zw") == 1.0
    assert letter_error("a1b2", "a7c9") == 0.5  # digits are not letters: 1 of 2
    assert letter_error("to be", "To be") == 0.25  # a change of case is a different letter


def test_letter_error_bad_input():
    with pytest.raises(ValueError, match="never the length"):
        letter_error("hello", "hell")
    with pytest.raises(ValueError, match="no letters"):
        letter_error("1, 2", "1, 2")


def markov_line_error(error_rates):
    """Independent prediction: a letter's state (right or wrong letter) as a Markov chain,
    each player a 26 x 26 transition matrix."""
    chain = np.eye(26)
    for e in error_rates:
        chain = chain @ ((1 - e) * np.eye(26) + e / 25 * (np.ones((26, 26)) - np.eye(26)))
    return 1 - chain[0, 0]


def test_simulated_line_error():
    assert simulated_line_error(SENTENCE, [0.0], trials=10, rng=0) == 0.0
    assert simulated_line_error(SENTENCE, [1.0], trials=10, rng=0) == 1.0
    for rates in ([0.1, 0.2], [0.3, 0.5, 0.1]):
        # 2000 trials of 40 letters: sd of the mean below 0.0025 (ignoring correlation).
        assert simulated_line_error(SENTENCE, rates, trials=2000, rng=1) == pytest.approx(
            markov_line_error(rates), abs=0.015)
    with pytest.raises(ValueError, match="trials"):
        simulated_line_error(SENTENCE, [0.1], trials=0)


def test_threaded_line_small_cases_by_hand():
    assert threaded_line(1, 2) == {
        "speaker 1": ["player 1.1"], "player 1.1": ["player 1.2"],
        "player 1.2": ["judge"], "judge": []}
    assert threaded_line(1, 1) == {
        "speaker 1": ["player 1.1"], "player 1.1": ["judge"], "judge": []}
    line = threaded_line(2, 2)
    assert {node: set(listeners) for node, listeners in line.items()} == {
        "speaker 1": {"player 1.1"}, "speaker 2": {"player 2.1"},
        "player 1.1": {"player 1.2", "player 2.2"}, "player 2.1": {"player 1.2", "player 2.2"},
        "player 1.2": {"judge"}, "player 2.2": {"judge"}, "judge": set()}


def independent_edges(groups, players):
    """The threaded line's edges, listed straight from the definition."""
    edges = {(f"speaker {g}", f"player {g}.1") for g in range(1, groups + 1)}
    edges |= {(f"player {g}.{k}", f"player {h}.{k + 1}") for k in range(1, players)
              for g in range(1, groups + 1) for h in range(1, groups + 1)}
    edges |= {(f"player {g}.{players}", "judge") for g in range(1, groups + 1)}
    return edges


def brute_force_forward(edges):
    """Per speaker, count edges whose tail a recursive search reaches from the speaker."""
    def reach(node, seen):
        if node not in seen:
            seen.add(node)
            for tail, head in edges:
                if tail == node:
                    reach(head, seen)
        return seen

    speakers = {tail for tail, _ in edges if tail.startswith("speaker")}
    return sum(sum(tail in reach(s, set()) for tail, _ in edges) for s in speakers)


@pytest.mark.parametrize("groups, players, forward, backward", [
    (1, 1, 2, 2), (1, 2, 3, 3), (3, 1, 6, 6),
    (2, 2, 10, 8),   # per speaker: own edge, 2 from player g.1, 2 into the judge
    (2, 3, 18, 12),  # per speaker: 1 + 2 + 4 + 2
])
def test_message_counts_by_hand(groups, players, forward, backward):
    line = threaded_line(groups, players)
    assert forward_messages(line) == forward
    assert backward_messages(line) == backward


def test_threaded_line_and_counts_against_brute_force():
    rng = random.Random(0)
    for _ in range(25):
        groups, players = rng.randint(1, 6), rng.randint(1, 6)
        line = threaded_line(groups, players)
        edges = {(tail, head) for tail, heads in line.items() for head in heads}
        assert sum(len(heads) for heads in line.values()) == len(edges)  # no duplicates
        assert edges == independent_edges(groups, players)
        assert len(line) == groups * (players + 1) + 1
        assert forward_messages(line) == brute_force_forward(edges)
        assert backward_messages(line) == len(edges)


def closed_form_walks(groups, players):
    """(members, connections) walk counts on threaded_line(groups, players), by formula.

    From a player at position k < players every later position is reached: their own
    groups edges, groups^2 edges per position before the last, groups into the judge."""
    def down(k):  # edges a walk from a player at position k crosses
        return 1 if k == players else 2 * groups + (players - 1 - k) * groups ** 2
    members = groups * (1 + down(1)) + groups * sum(down(k) for k in range(1, players + 1))
    per_connection = (groups * (1 + down(1)) + groups * 1
                      + sum(groups ** 2 * (1 + down(k + 1)) for k in range(1, players)))
    return members, per_connection


def test_walks_from_every_member_and_connection_against_a_formula():
    rng = random.Random(3)
    for _ in range(20):
        groups, players = rng.randint(1, 7), rng.randint(1, 7)
        line = threaded_line(groups, players)
        members, per_connection = closed_form_walks(groups, players)
        assert forward_messages(line, start="members") == members
        assert forward_messages(line, start="connections") == per_connection
        assert connections(line) == backward_messages(line)
    # The ten-by-ten line of chapter 1: every member walking costs about 50 broadcasts.
    line = threaded_line(10, 10)
    assert 45 < forward_messages(line, "members") / backward_messages(line) < 55


def test_walks_by_hand_and_bad_start():
    line = threaded_line(1, 2)  # speaker -> 1.1 -> 1.2 -> judge
    assert forward_messages(line, "members") == 3 + 2 + 1
    assert forward_messages(line, "connections") == 3 + 2 + 1
    line = threaded_line(2, 2)  # a walk from a player at position 1 crosses 2 + 2 edges
    assert forward_messages(line, "members") == 2 * 5 + 2 * 4 + 2 * 1
    with pytest.raises(ValueError, match="start must be"):
        forward_messages(line, start="judge")


# ---------------------------------------------------------------------------------------
# The numeric telephone: the judge's broadcast against autograd and finite differences


def autograd_cost(x, weights, offsets, target, squash):
    heard = x
    for k in range(len(weights)):
        z = weights[k] * heard + offsets[k]
        heard = 1 / (1 + anp.exp(-z)) if squash else z
    return 0.5 * (heard - target) ** 2


@pytest.mark.parametrize("squash", [False, True])
def test_judge_broadcast_against_autograd_and_finite_differences(squash):
    rng = np.random.default_rng(11 if squash else 12)
    for _ in range(30):
        n = int(rng.integers(1, 8))
        x, target = float(rng.normal()), float(rng.normal())
        weights, offsets = rng.normal(size=n) * 1.5, rng.normal(size=n)
        got = judge_broadcast(x, list(weights), list(offsets), target, squash)
        assert got["weights"] == pytest.approx(
            grad(autograd_cost, 1)(x, weights, offsets, target, squash), rel=1e-9, abs=1e-12)
        assert got["offsets"] == pytest.approx(
            grad(autograd_cost, 2)(x, weights, offsets, target, squash), rel=1e-9, abs=1e-12)
        assert got["x"] == pytest.approx(
            grad(autograd_cost, 0)(x, weights, offsets, target, squash), rel=1e-9, abs=1e-12)
        h = 1e-6
        for k in range(n):
            up, down = weights.copy(), weights.copy()
            up[k] += h
            down[k] -= h
            nudged = (line_cost(x, up, offsets, target, squash)
                      - line_cost(x, down, offsets, target, squash)) / (2 * h)
            assert got["weights"][k] == pytest.approx(nudged, rel=1e-5, abs=1e-8)
        # the message to the last player is the judge's dJ/d(out) = out - target
        out = numeric_pass(x, weights, offsets, squash)[1][-1]
        assert got["messages"][-1] == pytest.approx(out - target)


def test_numeric_pass_by_hand():
    zs, said = numeric_pass(2.0, [3.0, -1.0], [1.0, 0.5])
    assert zs == said == [7.0, -6.5]
    zs, said = numeric_pass(0.0, [1.0], [0.0], squash=True)
    assert zs == [0.0] and said == [0.5]
    assert judge_cost(3.0, 1.0) == 2.0
    assert line_cost(2.0, [3.0, -1.0], [1.0, 0.5], -6.5) == 0.0
    grads = judge_broadcast(2.0, [3.0, -1.0], [1.0, 0.5], -5.5)  # out - target = -1
    assert grads["messages"] == [1.0, -1.0] and grads["offsets"] == [1.0, -1.0]
    assert grads["weights"] == [2.0, -7.0] and grads["x"] == 3.0


@pytest.mark.parametrize("args, message", [
    ((np.nan, [1.0], [0.0]), "x must be one finite number"),
    (("1", [1.0], [0.0]), "x must be one finite number"),
    ((1.0, [], []), "weights must be a non-empty list"),
    ((1.0, [1.0, np.inf], [0.0, 0.0]), "weights must be a non-empty list"),
    ((1.0, [1.0, 2.0], [0.0]), "one weight and one offset per player"),
])
def test_numeric_pass_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        numeric_pass(*args)
    with pytest.raises(ValueError, match="target must be one finite number"):
        judge_cost(1.0, None)


def test_counts_on_a_line_that_is_not_threaded():
    line = {"speaker 1": ["a", "b"], "speaker 2": ["b"], "a": ["judge"], "b": ["judge"],
            "judge": []}
    assert forward_messages(line) == 4 + 2
    assert backward_messages(line) == 5


@pytest.mark.parametrize("groups, players",
                         [(0, 2), (2, 0), (-1, 1), (1.5, 2), ("2", 2), (True, 2)])
def test_threaded_line_bad_sizes(groups, players):
    with pytest.raises(ValueError, match="must be a whole number >= 1"):
        threaded_line(groups, players)


def test_message_counts_need_speaker_and_judge():
    with pytest.raises(ValueError, match="no speaker"):
        forward_messages({"judge": []})
    with pytest.raises(ValueError, match="no judge"):
        backward_messages({"speaker 1": []})


def test_gradient_cost_table():
    table = gradient_cost_table([2, 4], repeats=1)
    assert len(table) == 2
    # [4, h, h, 2]: 4h + h + h*h + h + 2h + 2 parameters, counted by hand.
    assert [row["n_params"] for row in table] == [22, 50]
    for row in table:
        assert set(row) == {"n_params", "fd_seconds", "bp_seconds", "speedup",
                            "fd_loss_calls", "max_abs_diff"}
        assert row["fd_loss_calls"] == row["n_params"] + 1
        assert 0 <= row["max_abs_diff"] < 1e-5
        assert row["speedup"] == pytest.approx(row["fd_seconds"] / row["bp_seconds"])
    with pytest.raises(ValueError, match="repeats"):
        gradient_cost_table([2], repeats=0)
    with pytest.raises(ValueError, match="layer sizes"):
        gradient_cost_table([0])
