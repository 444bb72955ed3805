"""Chapter 1: backpropagation as a game of telephone.

A sentence is whispered down a line of players, each of whom mishears some letters.
The functions here simulate that line, measure its error, build the *threaded* line
(a layered network with a judge at the end) and count the messages needed to tell
every player how they contributed to the error: by walking the line once per speaker
(forward) or by one broadcast from the judge (backward). `gradient_cost_table` makes
the same comparison for a real network: finite differences against backpropagation.
"""

import numbers

import numpy as np

from .network import _as_rng, backprop, init_params, n_params, numerical_gradient
from .timing import best_time

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _is_letter(char):
    return char.isascii() and char.isalpha()


def _check_rate(error_rate):
    if not (isinstance(error_rate, numbers.Real) and not isinstance(error_rate, bool)
            and np.isfinite(error_rate) and 0 <= error_rate <= 1):
        raise ValueError("error_rate must be a number in [0, 1] (the fraction of letters "
                         f"misheard), got {error_rate!r}")


def whisper(sentence, error_rate, rng=None):
    """The sentence as one player hears it.

    Each ASCII letter is misheard with probability error_rate and then becomes one of
    the 25 *other* letters, equally likely, in the same case. Anything else (spaces,
    punctuation, digits) passes unchanged, so the length never changes.
    """
    if not isinstance(sentence, str):
        raise ValueError(f"sentence must be a str, got {sentence!r}")
    _check_rate(error_rate)
    rng = _as_rng(rng)
    misheard = rng.random(len(sentence)) < error_rate
    shifts = rng.integers(1, len(ALPHABET), size=len(sentence))  # never 0: a *different* letter
    heard = []
    for char, is_misheard, shift in zip(sentence, misheard, shifts, strict=True):
        if is_misheard and _is_letter(char):
            new = ALPHABET[(ALPHABET.index(char.lower()) + shift) % len(ALPHABET)]
            char = new.upper() if char.isupper() else new
        heard.append(char)
    return "".join(heard)


def pass_along(sentence, error_rates, rng=None):
    """What each player says, in order: player k whispers on what player k-1 said.

    error_rates holds one rate per player; the speaker's sentence is not in the result.
    """
    if len(error_rates) == 0:
        raise ValueError("error_rates needs one rate per player, got none")
    for error_rate in error_rates:
        _check_rate(error_rate)
    rng = _as_rng(rng)
    said = []
    for error_rate in error_rates:
        said.append(whisper(said[-1] if said else sentence, error_rate, rng))
    return said


def letter_error(original, received):
    """The fraction of the original's letters that arrived as something else."""
    if len(original) != len(received):
        raise ValueError("a whisper changes letters, never the length: "
                         f"original has {len(original)} characters, received {len(received)}")
    letter_pairs = [(a, b) for a, b in zip(original, received, strict=True) if _is_letter(a)]
    if not letter_pairs:
        raise ValueError(f"the original {original!r} has no letters to compare")
    return sum(a != b for a, b in letter_pairs) / len(letter_pairs)


def simulated_line_error(sentence, error_rates, trials=200, rng=None):
    """The mean letter error of the last player's sentence over independent trials."""
    if not (isinstance(trials, numbers.Integral) and trials >= 1):
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    rng = _as_rng(rng)
    return float(np.mean([letter_error(sentence, pass_along(sentence, error_rates, rng)[-1])
                          for _ in range(trials)]))


def threaded_line(groups, players):
    """The threaded line as a DAG: each node maps to the list of nodes it whispers to.

    Speaker g whispers to player g.1; every player at position k whispers to the players
    at position k+1 of *every* group (which makes it a layered network), and the players
    at the last position whisper to the judge.
    """
    for name, value in (("groups", groups), ("players", players)):
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1):
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    line = {f"speaker {g}": [f"player {g}.1"] for g in range(1, groups + 1)}
    for k in range(1, players + 1):
        for g in range(1, groups + 1):
            line[f"player {g}.{k}"] = (
                [f"player {h}.{k + 1}" for h in range(1, groups + 1)] if k < players else ["judge"])
    line["judge"] = []
    return line


def _downstream_edges(line, start):
    """The edges whose tail can be reached from start (start's own edges included)."""
    reached, to_visit = {start}, [start]
    while to_visit:
        for listener in line[to_visit.pop()]:
            if listener not in reached:
                reached.add(listener)
                to_visit.append(listener)
    return sum(len(line[node]) for node in reached)


def forward_messages(line, start="speakers"):
    """Messages when members walk the line forwards, each to learn how they influence
    what reaches the judge: a walk crosses every edge downstream of where it starts.

    start="speakers": one walk per speaker, so only the speakers learn their influence;
    "members": one walk per speaker and player, so every member learns theirs;
    "connections": one walk per connection, which crosses it and then walks on from its
    listener, so every connection (a weight, in a network) learns its influence.
    """
    speakers = [node for node in line if node.startswith("speaker")]
    if not speakers:
        raise ValueError("the line has no speaker")
    if start == "speakers":
        return sum(_downstream_edges(line, node) for node in speakers)
    if start == "members":
        return sum(_downstream_edges(line, node) for node in line if node != "judge")
    if start == "connections":
        return sum(1 + _downstream_edges(line, listener)
                   for listeners in line.values() for listener in listeners)
    raise ValueError('start must be "speakers", "members" or "connections", '
                     f"got {start!r}")


def backward_messages(line):
    """Messages when the judge broadcasts once: each edge is crossed once, backwards."""
    if "judge" not in line:
        raise ValueError("the line has no judge")
    whisperers = {node: [] for node in line}
    for node, listeners in line.items():
        for listener in listeners:
            whisperers[listener].append(node)
    messages, reached, to_visit = 0, {"judge"}, ["judge"]
    while to_visit:
        for whisperer in whisperers[to_visit.pop()]:
            messages += 1
            if whisperer not in reached:
                reached.add(whisperer)
                to_visit.append(whisperer)
    return messages


def connections(line):
    """The number of connections (edges) of a line: one message each in the judge's broadcast."""
    return sum(len(listeners) for listeners in line.values())


def _check_numbers(name, values):
    values = np.asarray(values, dtype=float) if not isinstance(values, str) else None
    if values is None or values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be a non-empty list of finite numbers, one per player")
    return values


def _check_scalar(name, value):
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and np.isfinite(value)):
        raise ValueError(f"{name} must be one finite number, got {value!r}")
    return float(value)


def numeric_pass(x, weights, offsets, squash=False):
    """The numeric telephone: (zs, said), one entry per player, in order.

    Player k hears a number a (the speaker's x for player 1), scales it by the weight of
    the connection it came over and adds their own offset: z_k = weights[k] a + offsets[k].
    They say z_k, or sigmoid(z_k) with squash=True: then the line is the one-neuron-per-
    layer network a_k = sigma(w_k a_(k-1) + b_k).
    """
    x = _check_scalar("x", x)
    weights, offsets = _check_numbers("weights", weights), _check_numbers("offsets", offsets)
    if len(weights) != len(offsets):
        raise ValueError(f"one weight and one offset per player: got {len(weights)} weights "
                         f"and {len(offsets)} offsets")
    zs, said, heard = [], [], x
    for weight, offset in zip(weights, offsets, strict=True):
        z = weight * heard + offset
        heard = 1 / (1 + np.exp(-z)) if squash else z
        zs.append(float(z))
        said.append(float(heard))
    return zs, said


def judge_cost(out, target):
    """The judge's cost J = (out - target)^2 / 2 for what the last player said."""
    return 0.5 * (_check_scalar("out", out) - _check_scalar("target", target)) ** 2


def line_cost(x, weights, offsets, target, squash=False):
    """J for one practice number x whose right answer is target."""
    return judge_cost(numeric_pass(x, weights, offsets, squash)[1][-1], target)


def judge_broadcast(x, weights, offsets, target, squash=False):
    """Every partial derivative of J by one backward pass, as a dict of lists (and x).

    The judge sends dJ/d(out) = out - target to the last player. Player k receives
    message_k = dJ/d(what they said), turns it into dJ/dz_k (times sigma'(z_k) if they
    squash), keeps dJ/dz_k * (what they heard) for their connection's weight and dJ/dz_k
    for their offset, and sends dJ/dz_k * weight_k back to the player before them.
    """
    zs, said = numeric_pass(x, weights, offsets, squash)
    heard = [_check_scalar("x", x)] + said[:-1]  # what each player remembers hearing
    message = said[-1] - _check_scalar("target", target)
    grads = {"weights": [0.0] * len(zs), "offsets": [0.0] * len(zs),
             "messages": [0.0] * len(zs)}
    for k in reversed(range(len(zs))):
        grads["messages"][k] = message
        dz = message * said[k] * (1 - said[k]) if squash else message
        grads["weights"][k] = dz * heard[k]
        grads["offsets"][k] = dz
        message = dz * float(weights[k])
    grads["x"] = message
    return grads


def gradient_cost_table(hidden_sizes, n_inputs=4, n_outputs=2, batch=8, repeats=3, rng=0):
    """Time finite differences against backprop on networks [n_inputs, h, h, n_outputs].

    One row per hidden size h, with keys n_params, fd_seconds, bp_seconds, speedup
    (fd / bp), fd_loss_calls (n_params + 1) and max_abs_diff between the two gradients.
    """
    if not (isinstance(repeats, numbers.Integral) and repeats >= 1):
        raise ValueError(f"repeats must be a whole number >= 1, got {repeats!r}")
    rng = _as_rng(rng)
    rows = []
    for hidden in hidden_sizes:
        params = init_params([n_inputs, hidden, hidden, n_outputs], rng)
        x = rng.normal(size=(n_inputs, batch))
        y = rng.random((n_outputs, batch))  # sigmoid outputs lie in (0, 1), so targets do too
        fd_seconds, (fd_grads, fd_loss_calls) = best_time(
            repeats, numerical_gradient, params, x, y)
        bp_seconds, bp_grads = best_time(repeats, backprop, params, x, y)
        max_abs_diff = max(float(np.max(np.abs(fd - bp)))
                           for fd_layer, bp_layer in zip(fd_grads, bp_grads, strict=True)
                           for fd, bp in zip(fd_layer, bp_layer, strict=True))
        rows.append({"n_params": n_params(params), "fd_seconds": fd_seconds,
                     "bp_seconds": bp_seconds, "speedup": fd_seconds / bp_seconds,
                     "fd_loss_calls": fd_loss_calls, "max_abs_diff": max_abs_diff})
    return rows
