"""Assignment 3's catalogue of typical mistakes (grading/mistakes.py; the instructor guide,
"Adding a catalogued mistake"). Instructor side only: never released, never published."""

from grading.mistakes import Mistake

PAGE = "chapters/03-composite.html"

MISTAKES = [
    Mistake(
        id="a3-grad-b-mean",
        cell="composite-linear",
        replace=(("np.sum(upstream_grad, axis=1)", "np.mean(upstream_grad, axis=1)"),),
        tests=("composite-linear-tests",),
        title="the mean over the batch where ∂z/∂b is a sum",
        explanation="∂z/∂b sums over the examples: b is added to every example of the "
                    "batch, so each example's upstream gradient reaches it in full. Any "
                    "averaging over the batch already happened in the loss.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("mean-vs-sum",),
    ),
    Mistake(
        id="a3-grad-w-divided-by-batch",
        cell="composite-linear",
        replace=(("self.grad_W = np.dot(upstream_grad, self.seen.T)",
                  "self.grad_W = np.dot(upstream_grad, self.seen.T) / self.seen.shape[1]"),),
        tests=("composite-linear-tests",),
        title="∂z/∂W divided by the batch size once more",
        explanation="The layer does not know how the loss combines the examples: the "
                    "upstream gradient already carries the loss's 1/m. The weights' gradient "
                    "is the upstream gradient times the input, transposed, with no factor.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("one-over-m",),
    ),
    Mistake(
        id="a3-grad-w-transposed",
        cell="composite-linear",
        replace=(("self.grad_W = np.dot(upstream_grad, self.seen.T)",
                  "self.grad_W = np.dot(self.seen, upstream_grad.T)"),),
        tests=("composite-linear-tests",),
        title="∂z/∂W transposed",
        explanation="A gradient has the shape of what it is the gradient of: W is "
                    "(n_out, n_in), so its gradient is the upstream gradient (n_out, batch) "
                    "times the input transposed (batch, n_in), in that order.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("transposed",),
    ),
    Mistake(
        id="a3-dx-w-not-transposed",
        cell="composite-linear",
        replace=(("return np.dot(self.W.T, upstream_grad)",
                  "return np.dot(self.W, upstream_grad)"),),
        tests=("composite-linear-tests",),
        title="W instead of its transpose in dz/dx",
        explanation="The gradient sent back to x goes against the arrows of the forward "
                    "pass: it is Wᵀ times the upstream gradient, of shape (n_in, batch) like "
                    "x. With a square W the shapes agree but the numbers do not.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("transposed",),
    ),
    Mistake(
        id="a3-linear-keeps-callers-x",
        cell="composite-linear",
        replace=(("self.seen = np.array(x, dtype=float)  # a copy: the caller may reuse x",
                  "self.seen = x"),),
        tests=("composite-linear-tests",),
        title="the caller's x kept instead of a copy",
        explanation="A layer that keeps the caller's array itself sees every later change "
                    "the caller makes to it, so backward uses numbers forward never saw. "
                    "Keep your own copy of what the backward pass needs.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("in-place",),
    ),
    Mistake(
        id="a3-grad-b-flat",
        cell="composite-linear",
        replace=(("np.sum(upstream_grad, axis=1).reshape(-1, 1)",
                  "np.sum(upstream_grad, axis=1)"),),
        tests=("composite-linear-tests",),
        title="∂z/∂b of shape (n_out,) instead of (n_out, 1)",
        explanation="A gradient has the shape of its parameter: b is a column (n_out, 1). "
                    "Summing over axis 1 drops that axis; a flat array added to a column "
                    "broadcasts to a matrix in the update.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("other",),
    ),
    Mistake(
        id="a3-forward-every-input-kept",
        cell="composite-forward-through",
        replace=(("if position % every == 0:", "if True:"),),
        tests=("composite-forward-through-tests",),
        title="every layer's input kept, whatever every says",
        explanation="Checkpointing keeps one array per segment of k layers: the input of "
                    "the segment's first layer. Keeping every input is plain backprop's "
                    "memory again, and the list no longer says which array starts which "
                    "segment.",
        section=f"{PAGE}#gradient-checkpointing",
        kinds=("other",),
    ),
    Mistake(
        id="a3-forward-checkpoints-shifted",
        cell="composite-forward-through",
        replace=(("if position % every == 0:", "if (position + 1) % every == 0:"),),
        tests=("composite-forward-through-tests",),
        title="the checkpoints counted from layer k instead of layer 1",
        explanation="A segment's checkpoint is the input of its first layer: x¹ for layers "
                    "1 to k, then the input of layer k + 1, and so on. Counting from the "
                    "k-th layer keeps the input of each segment's last layer, from which "
                    "the segment cannot be recomputed, and loses x¹.",
        section=f"{PAGE}#gradient-checkpointing",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a3-forward-output-left-out",
        cell="composite-forward-through",
        replace=(("return checkpoints + [out]", "return checkpoints"),),
        tests=("composite-forward-through-tests",),
        title="the output x^(L+1) left out of the list",
        explanation="The forward pass exists to compute the output: the loss needs it. "
                    "The checkpoints are what the backward pass will need besides it, so "
                    "the list ends with the last layer's output.",
        section=f"{PAGE}#the-composition-and-its-two-recursions",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a3-backward-first-layer-first",
        cell="composite-backward-through",
        replace=(("for f in segment[::-1]:", "for f in segment:"),),
        tests=("composite-backward-through-tests",),
        title="each segment's backward called first layer first",
        explanation="The backward recursion starts at the output: the last layer receives "
                    "the upstream gradient and each layer hands its result to the one before "
                    "it. Forwards and backwards run in opposite orders, inside a segment too.",
        section=f"{PAGE}#the-composition-and-its-two-recursions",
        kinds=("layer-order",),
    ),
    Mistake(
        id="a3-backward-list-not-reversed",
        cell="composite-backward-through",
        replace=(("return gradients[::-1]", "return gradients"),),
        tests=("composite-backward-through-tests",),
        title="the gradients returned last layer first",
        explanation="The backward pass finds dz/dx^(L+1) first and dz/dx¹ last, but the "
                    "list should be in the order of the x^i, like the forward pass's list: "
                    "entry i belongs to x^i.",
        section=f"{PAGE}#the-composition-and-its-two-recursions",
        kinds=("layer-order",),
    ),
    Mistake(
        id="a3-backward-not-recomputed",
        cell="composite-backward-through",
        replace=(("            for f in segment:\n"
                  "                recomputed = f.forward(recomputed)\n", ""),),
        tests=("composite-backward-through-tests",),
        title="the segments' forward passes not run again",
        explanation="A layer's backward uses what its last forward call kept. With "
                    "checkpoints, only the last segment's layers still hold this pass's "
                    "values; every other segment must run forward again from its checkpoint "
                    "just before its backward, or its gradients are those of other numbers.",
        section=f"{PAGE}#gradient-checkpointing",
        kinds=("other",),
    ),
    Mistake(
        id="a3-backward-last-segment-recomputed",
        cell="composite-backward-through",
        replace=(("if number < len(starts) - 1:", "if number <= len(starts) - 1:"),),
        tests=("composite-backward-through-tests",),
        title="the last segment recomputed as well",
        explanation="The last segment's layers ran forward last, so they still hold what "
                    "their backward needs: its backward comes right after the forward pass. "
                    "Running it again gives the same numbers for extra work, which is why "
                    "checkpointing costs one forward pass less than two.",
        section=f"{PAGE}#gradient-checkpointing",
        kinds=("other",),
    ),
    Mistake(
        id="a3-backward-next-checkpoint",
        cell="composite-backward-through",
        replace=(("recomputed = checkpoints[number]", "recomputed = checkpoints[number + 1]"),),
        tests=("composite-backward-through-tests",),
        title="a segment recomputed from the next segment's checkpoint",
        explanation="Segment j starts at checkpoint j, the input of its first layer. The "
                    "next checkpoint is this segment's output: recomputing from it feeds the "
                    "layers the wrong numbers, often of the wrong shape.",
        section=f"{PAGE}#gradient-checkpointing",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a3-check-one-sided",
        cell="composite-gradient-check",
        replace=(("        shifted[k] -= 2 * h\n"
                  "        below = np.sum(u * layer.forward(shifted))\n"
                  "        numeric[k] = (above - below) / (2 * h)\n",
                  "        numeric[k] = (above - np.sum(u * output)) / h\n"),),
        tests=("composite-gradient-check-tests",),
        title="one-sided instead of central differences",
        explanation="A one-sided difference is off by about h times the curvature, enough "
                    "for a correct layer to fail the check; the central difference (nudge "
                    "up and down by h, divide by 2h) is off by about h² only.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("one-sided-difference",),
    ),
    Mistake(
        id="a3-check-nudges-callers-x",
        cell="composite-gradient-check",
        replace=(("x = np.array(x, dtype=float)  # our own copy", "x = np.asarray(x, dtype=float)"),
                 ("shifted = x.copy()", "shifted = x")),
        tests=("composite-gradient-check-tests",),
        title="the caller's x nudged in place",
        explanation="np.asarray and plain assignment do not copy: nudging that array "
                    "changes the caller's x and leaves each entry off by h for the entries "
                    "after it. Nudge a copy of your own.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("in-place",),
    ),
    Mistake(
        id="a3-check-no-abs",
        cell="composite-gradient-check",
        replace=(("np.max(np.abs(backward_grad - numeric))", "np.max(backward_grad - numeric)"),),
        tests=("composite-gradient-check-tests",),
        title="the largest signed difference instead of the largest absolute one",
        explanation="An error can be negative: the check must measure how far the two "
                    "gradients are apart, whatever the sign, or a backward pass that is too "
                    "small passes and a correct one can give a negative number.",
        section=f"{PAGE}#layers-as-objects",
        kinds=("sign",),
    ),
    Mistake(
        id="a3-blocks-off-by-one",
        cell="composite-blocks-needed",
        replace=(("blocks_needed = 6", "blocks_needed = 5"),),
        tests=("composite-blocks-needed-tests",),
        title="the last frame above the line instead of the first below it",
        explanation="The question asks for the smallest number of blocks at which "
                    "|dz/dx¹| falls below 10⁻³: the first frame whose value is under the "
                    "line, not the last one still above it.",
        section=f"{PAGE}#the-composition-and-its-two-recursions",
        kinds=("off-by-one",),
    ),
]
