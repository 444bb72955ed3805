"""Assignment 5's catalogue of typical mistakes (grading/mistakes.py; the instructor guide,
"Adding a catalogued mistake"). Instructor side only: never released, never published."""

from grading.mistakes import Mistake

PAGE = "chapters/05-full-algorithm.html"
BACKWARD = ("full-backward-pass", ("full-backward-pass-tests",))
CHECK = ("full-gradient-check", ("full-gradient-check-tests",))
EPOCH = ("full-sgd-epoch", ("full-sgd-epoch-tests",))

MISTAKES = [
    # Task 1: the backward pass, softplus hidden layers and a softmax output.
    Mistake(
        id="a5-softplus-slope-missing",
        cell=BACKWARD[0],
        replace=((" * slope  # BP2", "  # BP2"),),
        tests=BACKWARD[1],
        title="BP2 without the slope of softplus",
        explanation="BP2 carries the error back through the weights and then through the "
                    "activation of the layer below: the error of a hidden unit is the "
                    "weighted sum of the errors it feeds, times the slope of its own "
                    "activation at its weighted input. Softplus is flat for very negative "
                    "weighted inputs, and leaving its slope out gives those units far too "
                    "much of the blame.",
        section=f"{PAGE}#the-four-equations",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a5-softplus-slope-at-activation",
        cell=BACKWARD[0],
        replace=(("np.exp(-z_below)", "np.exp(-incoming)"),),
        tests=BACKWARD[1],
        title="the slope of softplus taken at the activation a instead of the weighted input z",
        explanation="The slope of softplus is the sigmoid of the weighted input z. The "
                    "activations list holds a = ln(1 + e^z), a different number (at z = 0, "
                    "a = ln 2): the slope must be evaluated at z, which you get from the "
                    "layer below's activations, weights and bias.",
        section=f"{PAGE}#the-four-equations",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a5-sigmoid-slope-for-softplus",
        cell=BACKWARD[0],
        replace=(("slope = 1.0 / (1.0 + np.exp(-z_below))",
                  "slope = incoming * (1.0 - incoming)"),),
        tests=BACKWARD[1],
        title="the sigmoid's slope a(1 − a) used for softplus units",
        explanation="a(1 − a) is the slope of the sigmoid written with its output. The "
                    "hidden units here are softplus units, whose output is not a sigmoid: "
                    "differentiate ln(1 + e^z) with respect to z and evaluate the result at "
                    "the weighted input. At z = 0 the slope is 1/2, while a(1 − a) with "
                    "a = ln 2 is about 0.21.",
        section=f"{PAGE}#the-algorithm",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a5-softmax-slope-multiplied",
        cell=BACKWARD[0],
        replace=(("(activations[-1] - y) / n_examples",
                  "(activations[-1] - y) * activations[-1] * (1.0 - activations[-1])"
                  " / n_examples"),),
        tests=BACKWARD[1],
        title="a slope multiplied into the output error of softmax with the cross-entropy",
        explanation="For a softmax output with the cross-entropy, the derivative of the "
                    "cost with respect to the weighted inputs z of the output layer "
                    "simplifies all the way: every slope cancels, and the output error is "
                    "the output minus the target (over m). Multiplying a slope back in "
                    "repeats a factor that is already inside that result.",
        section=f"{PAGE}#ten-classes-softmax-with-the-cross-entropy",
        kinds=("cross-entropy", "activation-derivative"),
    ),
    Mistake(
        id="a5-no-one-over-m",
        cell=BACKWARD[0],
        replace=(("(activations[-1] - y) / n_examples", "(activations[-1] - y)"),),
        tests=BACKWARD[1],
        title="the 1/m of the mean left out",
        explanation="The cost is a mean over the m examples of the batch, so its "
                    "gradient is the mean of the examples' gradients. The factor 1/m goes "
                    "into the output error once; BP2 to BP4 then carry it to every "
                    "gradient. Without it every gradient is m times too large, and the "
                    "right learning rate would depend on the batch size.",
        section=f"{PAGE}#mini-batches-the-whole-batch-as-one-matrix",
        kinds=("one-over-m",),
    ),
    Mistake(
        id="a5-one-over-m-twice",
        cell=BACKWARD[0],
        replace=(("np.dot(error, incoming.T), ", "np.dot(error, incoming.T) / n_examples, "),),
        tests=BACKWARD[1],
        title="the weights' gradient divided by m a second time",
        explanation="The 1/m of the mean is already inside the output error, and BP2 "
                    "passes it on to every layer's error. BP4's product of the error with "
                    "the activations then sums over the batch, which is exactly right: "
                    "dividing it again makes the weights' gradients m times too small "
                    "while the biases' stay right.",
        section=f"{PAGE}#mini-batches-the-whole-batch-as-one-matrix",
        kinds=("one-over-m",),
    ),
    Mistake(
        id="a5-bias-gradient-mean",
        cell=BACKWARD[0],
        replace=(("np.sum(error, axis=1)", "np.mean(error, axis=1)"),),
        tests=BACKWARD[1],
        title="the mean over the batch where ∂C/∂b is a sum",
        explanation="∂C/∂b adds the columns of the layer's error: b is added to every "
                    "example of the batch, so each example's error reaches it in full. "
                    "The mean over the batch is already inside the error (the 1/m at the "
                    "output), so a mean here divides by m twice.",
        section=f"{PAGE}#a-worked-example-in-matrix-form",
        kinds=("mean-vs-sum",),
    ),
    Mistake(
        id="a5-weight-gradient-transposed",
        cell=BACKWARD[0],
        replace=(("np.dot(error, incoming.T)", "np.dot(incoming, error.T)"),),
        tests=BACKWARD[1],
        title="∂C/∂W transposed",
        explanation="A gradient has the shape of its parameter: W of layer l is "
                    "(units of l, units of l − 1), so its gradient is the layer's error "
                    "(units of l, m) times the activations of the layer below, transposed "
                    "(m, units of l − 1), in that order. The table of shapes derives it.",
        section=f"{PAGE}#a-table-of-shapes",
        kinds=("transposed",),
    ),
    Mistake(
        id="a5-weights-not-transposed-in-bp2",
        cell=BACKWARD[0],
        replace=(("np.dot(weights.T, error)", "np.dot(weights, error)"),),
        tests=BACKWARD[1],
        title="W instead of its transpose in BP2",
        explanation="BP2 sends the error back against the arrows of the forward pass: "
                    "each unit of the layer below collects the errors of all the units it "
                    "feeds, weighted by the weights out of it, which are a column of W. "
                    "That is Wᵀ times the error, of shape (units of the layer below, m).",
        section=f"{PAGE}#the-four-equations",
        kinds=("transposed",),
    ),
    Mistake(
        id="a5-layer-order-forward",
        cell=BACKWARD[0],
        replace=(("for layer in reversed(range(len(params))):",
                  "for layer in range(len(params)):"),),
        tests=BACKWARD[1],
        title="the layers visited from the first to the last",
        explanation="The backward pass starts at the output, where BP1 gives the error, "
                    "and walks towards the input: each layer's error needs the error of "
                    "the layer above it. Visited from the first layer on, the output "
                    "error is used as the first layer's.",
        section=f"{PAGE}#the-algorithm",
        kinds=("layer-order",),
    ),
    Mistake(
        id="a5-own-output-for-input",
        cell=BACKWARD[0],
        replace=(("incoming = activations[layer]", "incoming = activations[layer + 1]"),),
        tests=BACKWARD[1],
        title="the layer's own output where BP4 needs its input",
        explanation="The activations list starts with the input x, so layer l (counted "
                    "from 0 in the params list) reads entry l and writes entry l + 1. BP4 "
                    "multiplies the layer's error by what flows into the layer, the "
                    "activations of the layer below.",
        section=f"{PAGE}#the-four-equations",
        kinds=("off-by-one",),
    ),
    # Task 2: the gradient check, array by array.
    Mistake(
        id="a5-one-sided-differences",
        cell=CHECK[0],
        replace=(("flat_view[i] = kept - h", "flat_view[i] = kept"),
                 ("(cost_up - cost_down) / (2 * h)", "(cost_up - cost_down) / h")),
        tests=CHECK[1],
        title="one-sided differences instead of central ones",
        explanation="(C(p + h) − C(p)) / h has an error proportional to h: with h = 1e-5 "
                    "a right gradient already shows relative errors far above 1e-7. The "
                    "central difference nudges both ways and divides by 2h; its error is "
                    "proportional to h², small enough to tell a right gradient from a "
                    "wrong one.",
        section=f"{PAGE}#checking-the-gradient",
        kinds=("one-sided-difference",),
    ),
    Mistake(
        id="a5-nudged-entry-not-restored",
        cell=CHECK[0],
        replace=(("                flat_view[i] = kept\n", ""),),
        tests=CHECK[1],
        title="the nudged parameter not put back",
        explanation="The check changes the caller's arrays in place, one entry at a "
                    "time, so each entry must get back its saved value before the next "
                    "one is nudged: otherwise every later cost is computed at a shifted "
                    "point and the caller's network is left changed. Restore the saved "
                    "number itself, not the result of adding and subtracting h, which "
                    "floating point does not always undo exactly.",
        section=f"{PAGE}#checking-the-gradient",
        kinds=("in-place",),
    ),
    Mistake(
        id="a5-nudge-undone-by-arithmetic",
        cell=CHECK[0],
        replace=(("flat_view[i] = kept + h", "flat_view[i] += h"),
                 ("flat_view[i] = kept - h", "flat_view[i] -= 2 * h"),
                 ("                flat_view[i] = kept\n", "                flat_view[i] += h\n")),
        tests=CHECK[1],
        title="the nudged parameter put back by adding h again",
        explanation="The check changes the caller's arrays in place, so each entry must "
                    "end as the very number it held. Adding h and subtracting it again does "
                    "not always give that number back in floating point: the caller's "
                    "network is left changed in its last bits. Save the entry before the "
                    "nudges and write the saved number back.",
        section=f"{PAGE}#checking-the-gradient",
        kinds=("in-place",),
    ),
    Mistake(
        id="a5-worst-error-only",
        cell=CHECK[0],
        replace=(("    return per_layer\n", "    return max(max(pair) for pair in per_layer)\n"),),
        tests=CHECK[1],
        title="one number where the task asks for one per array",
        explanation="The check reports each array's relative error, one (W, b) pair per "
                    "layer, so that the reader sees which array is wrong. The worst error "
                    "alone still flags a bug, but no longer says where it is.",
        section=f"{PAGE}#one-number-for-all-layers-hides-a-layer",
        kinds=("other",),
    ),
    # Task 3: an epoch of mini-batch SGD with L2 weight decay.
    Mistake(
        id="a5-update-sign",
        cell=EPOCH[0],
        replace=(("W - learning_rate * dW", "W + learning_rate * dW"),),
        tests=EPOCH[1],
        title="the weights stepped up the gradient",
        explanation="The gradient points where the cost grows fastest; gradient descent "
                    "steps the other way, subtracting the learning rate times the "
                    "gradient. Adding it climbs the cost.",
        section=f"{PAGE}#the-algorithm",
        kinds=("sign",),
    ),
    Mistake(
        id="a5-decay-sign",
        cell=EPOCH[0],
        replace=(("- shrink * W", "+ shrink * W"),),
        tests=EPOCH[1],
        title="weight decay that grows the weights",
        explanation="The penalty λ/(2n) Σ w² grows with every weight's size, so its "
                    "derivative points away from 0 and a descent step moves every weight "
                    "towards 0: each step shrinks W by a small fraction of itself. With "
                    "the sign reversed the penalty pushes the weights outwards.",
        section=f"{PAGE}#the-algorithm",
        kinds=("sign",),
    ),
    Mistake(
        id="a5-decay-by-batch-size",
        cell=EPOCH[0],
        replace=(("- shrink * W", "- learning_rate * weight_decay / len(chosen) * W"),),
        tests=EPOCH[1],
        title="the penalty divided by the mini-batch's size instead of n",
        explanation="The penalty λ/(2n) Σ w² belongs to the cost of the whole training "
                    "set of n examples, and so does its gradient, (λ/n) w, at every "
                    "mini-batch step. The mini-batch size is the m of the data part's "
                    "mean, which bplib's gradient already contains.",
        section=f"{PAGE}#mini-batches-the-whole-batch-as-one-matrix",
        kinds=("one-over-m",),
    ),
    Mistake(
        id="a5-decay-half",
        cell=EPOCH[0],
        replace=(("learning_rate * weight_decay / x.shape[1]",
                  "learning_rate * weight_decay / (2 * x.shape[1])"),),
        tests=EPOCH[1],
        title="the ½ of the penalty kept in its derivative",
        explanation="The ½ in λ/(2n) w² is there to cancel: the derivative of w² is 2w, "
                    "so the penalty adds (λ/n) w to ∂C/∂w, not (λ/2n) w.",
        section=f"{PAGE}#the-algorithm",
        kinds=("other",),
    ),
    Mistake(
        id="a5-biases-decayed",
        cell=EPOCH[0],
        replace=(("b - learning_rate * db)", "b - learning_rate * db - shrink * b)"),),
        tests=EPOCH[1],
        title="the biases decayed too",
        explanation="The penalty adds up the squares of the weights only, so it does not "
                    "depend on the biases: ∂C/∂b is the gradient of the data part alone, "
                    "and a bias takes the plain gradient step.",
        section=f"{PAGE}#the-algorithm",
        kinds=("other",),
    ),
    Mistake(
        id="a5-callers-params-changed",
        cell=EPOCH[0],
        replace=(("        current = [\n"
                  "            (W - learning_rate * dW - shrink * W, b - learning_rate * db)\n"
                  "            for (W, b), (dW, db) in zip(current, step)\n"
                  "        ]\n",
                  "        for (W, b), (dW, db) in zip(current, step):\n"
                  "            W -= learning_rate * dW + shrink * W\n"
                  "            b -= learning_rate * db\n"),),
        tests=EPOCH[1],
        title="the caller's arrays changed in place",
        explanation="An update with -= writes into the arrays the caller passed in, so "
                    "the network the caller started from is gone after the call (and a "
                    "second run from the same start is no longer from the same start). "
                    "Build new arrays for the new parameters and leave the old ones alone.",
        section=f"{PAGE}#training-a-real-network",
        kinds=("in-place",),
    ),
    Mistake(
        id="a5-mini-batch-one-short",
        cell=EPOCH[0],
        replace=(("shuffled[first : first + batch_size]",
                  "shuffled[first : first + batch_size - 1]"),),
        tests=EPOCH[1],
        title="every mini-batch one example short",
        explanation="A slice [a : b] holds the entries a, a + 1, …, b − 1: b − a of them. "
                    "Mini-batch k is the slice from k·batch_size to (k + 1)·batch_size, "
                    "so that the mini-batches together hold every example exactly once.",
        section=f"{PAGE}#training-a-real-network",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a5-examples-in-order",
        cell=EPOCH[0],
        replace=(("chosen = shuffled[first : first + batch_size]",
                  "chosen = np.arange(first, min(first + batch_size, x.shape[1]))"),),
        tests=EPOCH[1],
        title="the examples taken in their stored order",
        explanation="Stochastic gradient descent takes the examples in a new random order "
                    "every epoch, so that the mini-batches differ from epoch to epoch. "
                    "Drawing the permutation is not enough: the mini-batches must be cut "
                    "from it.",
        section=f"{PAGE}#training-a-real-network",
        kinds=("other",),
    ),
    # Task 4: the settings of the digits network, searched on validation.
    Mistake(
        id="a5-chapter-setting-squeezed",
        cell="full-train-digits",
        replace=(("chosen_setting = max(grid_accuracy, key=grid_accuracy.get)",
                  "chosen_setting = (3, 16, 4)"),),
        tests=("full-train-digits-tests",),
        title="the chapter's best setting squeezed into the grid, not searched",
        explanation="Chapter 5 chose eta = 3 for 30 epochs and up to 64 hidden units; with "
                    "at most 16 units and 4 epochs the best rate, width and number of "
                    "epochs are others. Run training_run for every rate and width of the "
                    "grid and keep the setting with the highest validation accuracy.",
        section=f"{PAGE}#a-playground",
        kinds=("other",),
    ),
    Mistake(
        id="a5-chapter-width-kept",
        cell="full-train-digits",
        replace=(("chosen_setting = max(grid_accuracy, key=grid_accuracy.get)",
                  "chosen_setting = (3, 64, 4)"),),
        tests=("full-train-digits-tests",),
        title="the chapter's 64 hidden units kept, outside the grid",
        explanation="The task searches a grid of small networks: 4, 8 or 16 hidden units. "
                    "Chapter 5's best frame is wider; choose a setting of the grid.",
        section=f"{PAGE}#a-playground",
        kinds=("other",),
    ),
    Mistake(
        id="a5-epochs-counted-from-zero",
        cell="full-train-digits",
        replace=(('enumerate(history["val_accuracy"], start=1)',
                  'enumerate(history["val_accuracy"])'),),
        tests=("full-train-digits-tests",),
        title="the epochs of a run counted from 0",
        explanation="history[\"val_accuracy\"][0] is the accuracy after the first epoch: the "
                    "k-th entry of a run's history belongs to k + 1 epochs.",
        section=f"{PAGE}#a-playground",
        kinds=("off-by-one",),
    ),
    # Task 5: the smallest learning rate.
    Mistake(
        id="a5-best-rate-not-smallest",
        cell="full-smallest-rate",
        replace=(("smallest_good_rate = 0.3", "smallest_good_rate = 1.0"),),
        tests=("full-smallest-rate-tests",),
        title="the rate with the best accuracy, not the smallest that reaches 93%",
        explanation="The question asks for the first rate, from the left of the slider, "
                    "whose run reaches 93% on the validation images after 10 epochs; "
                    "larger rates may do better, but they are not the answer.",
        section=f"{PAGE}#a-playground",
        kinds=("other",),
    ),
    Mistake(
        id="a5-rate-one-step-left",
        cell="full-smallest-rate",
        replace=(("smallest_good_rate = 0.3", "smallest_good_rate = 0.1"),),
        tests=("full-smallest-rate-tests",),
        title="a rate whose run stays below 93%",
        explanation="Read the title of each frame: the rate asked for is the smallest one "
                    "whose title shows at least 93%, and a rate one step further left "
                    "does not reach it in 10 epochs.",
        section=f"{PAGE}#a-playground",
        kinds=("off-by-one",),
    ),
]
