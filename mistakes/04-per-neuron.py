"""Typical mistakes of Assignment 4 (tanh neurons, the accumulated update): issue 22's
catalogue. Each is a small variant of one solution cell; see grading/mistakes.py."""

from grading.mistakes import Mistake

CHAPTER = "chapters/04-per-neuron.html"
TERMS = f"{CHAPTER}#the-derivation-one-step-at-a-time"
SIGNS = f"{CHAPTER}#the-signs-against-chapter-5"
COST = f"{CHAPTER}#the-cost-changes-one-factor"
UPDATE = f"{CHAPTER}#backward-every-parameter-s-gradient-and-the-update"
BATCH = f"{CHAPTER}#epoch-batch-and-iteration"
EXPLORE = f"{CHAPTER}#try-it-the-learning-rate"

MISTAKES = [
    Mistake(
        id="a4-g-no-slope",
        cell="neuron-g-terms",
        replace=(("(1.0 - y_hat[j] ** 2) * (y[j] - y_hat[j])", "(y[j] - y_hat[j])"),),
        tests=("neuron-g-terms-tests",),
        title="the output neuron's slope left out of g_j",
        explanation="g_j is minus the derivative of E with respect to the output neuron's "
                    "input β_j − θ_j, not with respect to its output ŷ_j: the chain rule "
                    "multiplies ∂E/∂ŷ_j by the slope of the activation at that input. Only "
                    "a cost matched to the activation (Task 3) cancels that slope.",
        section=TERMS,
        kinds=("missing activation derivative",),
    ),
    Mistake(
        id="a4-g-sigmoid-slope",
        cell="neuron-g-terms",
        replace=(("(1.0 - y_hat[j] ** 2)", "y_hat[j] * (1.0 - y_hat[j])"),),
        tests=("neuron-g-terms-tests",),
        title="the sigmoid's slope used for a tanh output",
        explanation="ŷ(1 − ŷ) is the slope of the sigmoid written with its own output. A "
                    "tanh neuron has another derivative: differentiate tanh and write the "
                    "result with tanh itself before you carry chapter 4's formula over.",
        section=TERMS,
        kinds=("missing activation derivative",),
    ),
    Mistake(
        id="a4-g-sign",
        cell="neuron-g-terms",
        replace=(("(y[j] - y_hat[j])", "(y_hat[j] - y[j])"),),
        tests=("neuron-g-terms-tests",),
        title="g_j with the wrong sign (Nielsen's δ for Zhou's g)",
        explanation="Zhou's g_j is MINUS the derivative of the error, so that every update "
                    "adds η times it; Nielsen's δ is the derivative itself. Mixing the two "
                    "conventions flips every update after it.",
        section=SIGNS,
        kinds=("sign of the update",),
    ),
    Mistake(
        id="a4-e-no-slope",
        cell="neuron-e-terms",
        replace=(("terms[h] = (1.0 - b[h] ** 2) * collected", "terms[h] = collected"),),
        tests=("neuron-e-terms-tests",),
        title="the hidden neuron's slope left out of e_h",
        explanation="What the outputs send back, Σ_j w_hj g_j, is the derivative with "
                    "respect to b_h; e_h is taken with respect to the neuron's input "
                    "α_h − γ_h, so it is scaled by the hidden neuron's own slope at that input.",
        section=TERMS,
        kinds=("missing activation derivative",),
    ),
    Mistake(
        id="a4-e-sigmoid-slope",
        cell="neuron-e-terms",
        replace=(("(1.0 - b[h] ** 2)", "b[h] * (1.0 - b[h])"),),
        tests=("neuron-e-terms-tests",),
        title="the sigmoid's slope used for a tanh hidden neuron",
        explanation="b(1 − b) is the slope of the sigmoid written with its own output. The "
                    "hidden neurons of this network are tanh neurons, whose slope written "
                    "with their output is another function: differentiate tanh and write "
                    "the result with tanh itself. At an output of 0 the two differ most: "
                    "tanh is steepest there, the sigmoid's formula gives 0.",
        section=TERMS,
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a4-e-transposed",
        cell="neuron-e-terms",
        replace=(("collected += w[h, j] * g[j]", "collected += w[j, h] * g[j]"),),
        tests=("neuron-e-terms-tests",),
        title="the weight matrix read transposed",
        explanation="w has one row per hidden neuron and one column per output: w[h, j] is "
                    "the weight from hidden neuron h to output j. Hidden neuron h collects "
                    "along its own outgoing weights, one row of w; a square example hides "
                    "the mix-up, other shapes do not.",
        section=f"{CHAPTER}#zhou-s-network-and-its-symbols",
        kinds=("transposed weights",),
    ),
    Mistake(
        id="a4-e-first-output-skipped",
        cell="neuron-e-terms",
        replace=(("for j in range(n_outputs):", "for j in range(1, n_outputs):"),),
        tests=("neuron-e-terms-tests",),
        title="the sum over the outputs starts at the second one",
        explanation="Python counts from 0: Zhou's outputs 1 … l are indices 0 … l − 1. The "
                    "sum that a hidden neuron collects runs over every output neuron, and "
                    "with one output there would be nothing left to send back.",
        section=TERMS,
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a4-bce-not-simplified",
        cell="neuron-g-bce",
        replace=(("terms[j] = -(y_hat[j] - y[j])",
                  "slope = 1.0 - y_hat[j] ** 2\n"
                  "        terms[j] = -(y_hat[j] - y[j]) / slope * slope"),),
        tests=("neuron-g-bce-tests",),
        title="the cross-entropy's term not simplified",
        explanation="∂E/∂ŷ_j has the activation's slope in its denominator and the chain "
                    "rule multiplies by the same slope: cancel them on paper. Computed "
                    "as a division and a product, a saturated output (ŷ exactly −1 or 1) "
                    "gives 0/0 = nan where the true term is finite.",
        section=COST,
        kinds=("cross-entropy not simplified",),
    ),
    Mistake(
        id="a4-bce-factor-two",
        cell="neuron-g-bce",
        replace=(("terms[j] = -(y_hat[j] - y[j])", "terms[j] = -2 * (y_hat[j] - y[j])"),),
        tests=("neuron-g-bce-tests",),
        title="a factor 2 too many in the cross-entropy's term",
        explanation="The probabilities are (1 ± ŷ)/2: each logarithm's derivative brings a "
                    "1/2 that the numerator's 2 must meet. Carry every constant factor "
                    "through the derivation and check one value against autograd or a "
                    "finite difference.",
        section=COST,
        kinds=(),
    ),
    Mistake(
        id="a4-thresholds-with-g",
        cell="neuron-update",
        replace=(('total["theta"][j] -= g[j]', 'total["theta"][j] += g[j]'),
                 ('total["gamma"][h] -= e[h]', 'total["gamma"][h] += e[h]')),
        tests=("neuron-update-tests",),
        title="the thresholds moved with g and e",
        explanation="A threshold is subtracted from the neuron's input, so it is minus a "
                    "bias: its derivative has the opposite sign of the bias's, and it moves "
                    "against g_j (and e_h) where the weights move with them.",
        section=SIGNS,
        kinds=("sign of the threshold",),
    ),
    Mistake(
        id="a4-update-uphill",
        cell="neuron-update",
        replace=(("net[name] + eta * total[name]", "net[name] - eta * total[name]"),),
        tests=("neuron-update-tests",),
        title="the update climbs the error",
        explanation="g_j and e_h are already minus derivatives of the error: Zhou's rules "
                    "ADD η times them. Subtracting them as well climbs the error instead "
                    "of descending it.",
        section=UPDATE,
        kinds=("sign of the update",),
    ),
    Mistake(
        id="a4-summed-not-averaged",
        cell="neuron-update",
        replace=(("eta * total[name] / n_examples", "eta * total[name]"),),
        tests=("neuron-update-tests",),
        title="the examples' changes summed, not averaged",
        explanation="Zhou's accumulated BP minimises the mean error over the batch: each "
                    "parameter moves by the mean of the examples' changes. A sum makes the "
                    "step grow with the batch, as if η were m times larger.",
        section=BATCH,
        kinds=(),
    ),
    Mistake(
        id="a4-in-place",
        cell="neuron-update",
        replace=(("    return {name: net[name] + eta * total[name] / n_examples for name in net}",
                  "    for name in net:\n"
                  "        net[name] += eta * total[name] / n_examples\n"
                  "    return net"),),
        tests=("neuron-update-tests",),
        title="the caller's network changed in place",
        explanation="`+=` on an array writes into the array the caller passed: the network "
                    "before the update is lost for the caller (a slider, a comparison, a "
                    "second run). Build new arrays and return them.",
        section=UPDATE,
        kinds=("in-place change of the caller's arrays",),
    ),
    Mistake(
        id="a4-last-example-skipped",
        cell="neuron-update",
        replace=(("for k in range(n_examples):", "for k in range(n_examples - 1):"),),
        tests=("neuron-update-tests",),
        title="the last example of the batch left out",
        explanation="range(m) already stops before m: it gives the m examples 0 … m − 1. "
                    "With one fewer, the last example never counts, and a batch of one "
                    "does not move at all.",
        section=BATCH,
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a4-v-transposed",
        cell="neuron-update",
        replace=(('total["v"][i, h] += e[h] * x[i]', 'total["v"][h, i] += e[h] * x[i]'),),
        tests=("neuron-update-tests",),
        title="v indexed hidden-first",
        explanation="v has one row per input and one column per hidden neuron: v[i, h] is "
                    "v_ih, from input i to hidden neuron h. Check each index against the "
                    "array's shape (d, q) before you write it.",
        section=f"{CHAPTER}#zhou-s-network-and-its-symbols",
        kinds=("transposed weights",),
    ),
    Mistake(
        id="a4-eta-three-updates",
        cell="neuron-eta-answer",
        replace=(("eta_answer = 0.8", "eta_answer = 0.6"),),
        tests=("neuron-eta-answer-tests",),
        title="the rate read off after three updates",
        explanation="The slider's first point is the prediction before any update (0 "
                    "updates made); the second update is the third point.",
        section=EXPLORE,
        kinds=("off-by-one",),
    ),
]
