"""Assignment 2's catalogue of typical mistakes (grading/mistakes.py; the instructor guide,
"Adding a catalogued mistake"). Instructor side only: never released, never published."""

from grading.mistakes import Mistake

PAGE = "chapters/02-chain-rule-graphs.html"

MISTAKES = [
    Mistake(
        id="a2-div-upstream-dropped",
        cell="graphs-div-layer",
        replace=(("dy = -upstream_grad * self.numerator / self.denominator ** 2",
                  "dy = -self.numerator / self.denominator ** 2"),),
        tests=("graphs-div-layer-tests",),
        title="the upstream gradient left out of dy",
        explanation="A node sends each input the upstream gradient times its local "
                    "derivative, for every input: downstream = upstream × local. Without "
                    "the upstream factor, dy is right only when the upstream gradient is 1.",
        section=f"{PAGE}#the-rules-at-each-node",
        kinds=("other",),
    ),
    Mistake(
        id="a2-div-sign",
        cell="graphs-div-layer",
        replace=(("dy = -upstream_grad * self.numerator / self.denominator ** 2",
                  "dy = upstream_grad * self.numerator / self.denominator ** 2"),),
        tests=("graphs-div-layer-tests",),
        title="the sign of dz/dy",
        explanation="Dividing by a larger y makes x / y smaller (for positive x): the "
                    "derivative of x / y with respect to y is −x / y², negative, like every "
                    "derivative of 1/y.",
        section=f"{PAGE}#the-rules-at-each-node",
        kinds=("sign",),
    ),
    Mistake(
        id="a2-sigmoid-keeps-input",
        cell="graphs-sigmoid-layer",
        replace=(("        self.out = 1 / (1 + np.exp(-x))  # a new number or array: the "
                  "caller's x can change\n"
                  "        return self.out\n",
                  "        self.out = x\n"
                  "        return 1 / (1 + np.exp(-x))\n"),),
        tests=("graphs-sigmoid-layer-tests",),
        title="σ′ computed from the input instead of the output",
        explanation="σ′(x) = σ(x)(1 − σ(x)) is written with the sigmoid's output, not its "
                    "input: the node keeps its output in the forward pass, and the backward "
                    "pass uses that. x(1 − x) of the input is another function.",
        section=f"{PAGE}#what-a-node-must-remember",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a2-sigmoid-no-derivative",
        cell="graphs-sigmoid-layer",
        replace=(("return upstream_grad * self.out * (1 - self.out)",
                  "return upstream_grad"),),
        tests=("graphs-sigmoid-layer-tests",),
        title="σ′ left out: the upstream gradient passed through",
        explanation="Only an addition node passes its upstream gradient on unchanged. A "
                    "sigmoid node multiplies it by its local derivative σ′, which is at most "
                    "1/4.",
        section=f"{PAGE}#the-rules-at-each-node",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a2-sigmoid-output-factor-dropped",
        cell="graphs-sigmoid-layer",
        replace=(("return upstream_grad * self.out * (1 - self.out)",
                  "return upstream_grad * (1 - self.out)"),),
        tests=("graphs-sigmoid-layer-tests",),
        title="σ′ taken as 1 − σ: the factor σ left out",
        explanation="σ′(x) = σ(x)(1 − σ(x)) is a product of two factors, the output and one "
                    "minus the output. One minus the output alone falls from 1 to 0 as x "
                    "grows, while the slope of the sigmoid is largest, 1/4, at x = 0 and "
                    "falls on both sides.",
        section=f"{PAGE}#what-a-node-must-remember",
        kinds=("activation-derivative",),
    ),
    Mistake(
        id="a2-sigmoid-upstream-dropped",
        cell="graphs-sigmoid-layer",
        replace=(("return upstream_grad * self.out * (1 - self.out)",
                  "return self.out * (1 - self.out)"),),
        tests=("graphs-sigmoid-layer-tests",),
        title="the upstream gradient left out of the sigmoid's backward",
        explanation="A node sends its input the upstream gradient times its local "
                    "derivative: downstream = upstream × σ′. σ′ alone is what the node "
                    "sends only when the upstream gradient is 1, as at the very end of the "
                    "graph; anywhere else the gradient from above is lost.",
        section=f"{PAGE}#the-rules-at-each-node",
        kinds=("other",),
    ),
    Mistake(
        id="a2-bill-upstream-restarted",
        cell="graphs-bill-gradients",
        replace=(("d_subtotal, d_tax = add_tax.backward(d_total)",
                  "d_subtotal, d_tax = add_tax.backward(1.0)"),),
        tests=("graphs-bill-gradients-tests",),
        title="a node's backward given 1 instead of its upstream gradient",
        explanation="The backward pass starts from 1 at the output only; every node below "
                    "receives the gradient its successor sent it. Restarting from 1 in the "
                    "middle forgets the division by the number of friends.",
        section=f"{PAGE}#shopping-as-a-computational-graph",
        kinds=("other",),
    ),
    Mistake(
        id="a2-bill-pen-gradients-swapped",
        cell="graphs-bill-gradients",
        replace=(('"pen_price": d_pen_price, "pen_count": d_pen_count',
                  '"pen_price": d_pen_count, "pen_count": d_pen_price'),),
        tests=("graphs-bill-gradients-tests",),
        title="the two inputs of a multiplication swapped",
        explanation="A multiplication node returns its gradients in the order of its "
                    "inputs, and each input receives the upstream gradient times the *other* "
                    "input: the price's gradient is proportional to the count, and the "
                    "other way round.",
        section=f"{PAGE}#the-rules-at-each-node",
        kinds=("transposed",),
    ),
    Mistake(
        id="a2-friends-off-by-one",
        cell="graphs-friends-needed",
        replace=(("friends_needed = 5", "friends_needed = 4"),),
        tests=("graphs-friends-needed-tests",),
        title="the last group size still below −1 read off",
        explanation="The question asks for the smallest group whose d share / d friends "
                    "lies between −1 and 0: the first size at which it does, not the last "
                    "one at which it is still below −1.",
        section=f"{PAGE}#try-it-change-the-shopping-list",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a2-path-sum-added-along",
        cell="graphs-path-sum-gradient",
        replace=(("derivative * path_sum_gradient(local, head, sink)",
                  "derivative + path_sum_gradient(local, head, sink)"),),
        tests=("graphs-path-sum-gradient-tests",),
        title="local derivatives added along a path",
        explanation="Along one path the local derivatives multiply (the chain rule); across "
                    "different paths the products add up.",
        section=f"{PAGE}#multiply-along-a-path-add-across-paths",
        kinds=("other",),
    ),
    Mistake(
        id="a2-path-sum-last-node-as-sink",
        cell="graphs-path-sum-gradient",
        replace=(("    if source == sink:\n",
                  "    if not any(tail == source for tail, _ in local):\n"),),
        tests=("graphs-path-sum-gradient-tests",),
        title="paths ended at the last node instead of at the sink",
        explanation="A path ends where it reaches the sink you were given, which need not "
                    "be the last node of the graph; a node from which the sink cannot be "
                    "reached contributes 0.",
        section=f"{PAGE}#multiply-along-a-path-add-across-paths",
        kinds=("other",),
    ),
    Mistake(
        id="a2-backward-overwritten",
        cell="graphs-backward-gradients",
        replace=(("gradients[tail] += derivative * gradients[node]",
                  "gradients[tail] = derivative * gradients[node]"),),
        tests=("graphs-backward-gradients-tests",),
        title="a node's gradient overwritten instead of accumulated",
        explanation="A node used by several later nodes receives one message from each, "
                    "and its gradient is their sum (add across paths): accumulate into it, "
                    "never overwrite what an earlier message left there.",
        section=f"{PAGE}#multiply-along-a-path-add-across-paths",
        kinds=("other",),
    ),
    Mistake(
        id="a2-backward-dict-order",
        cell="graphs-backward-gradients",
        replace=(("    ready = [node for node, count in users_left.items() if count == 0]\n"
                  "    while ready:\n"
                  "        node = ready.pop()\n"
                  "        for tail, derivative in edges_into[node]:\n"
                  "            gradients[tail] += derivative * gradients[node]\n"
                  "            users_left[tail] -= 1\n"
                  "            if users_left[tail] == 0:\n"
                  "                ready.append(tail)\n",
                  "    for (tail, head), derivative in reversed(list(local.items())):\n"
                  "        gradients[tail] += derivative * gradients[head]\n"),),
        tests=("graphs-backward-gradients-tests",),
        title="the entries of local, last first, taken for the reverse order",
        explanation="A node may send its gradient on only once every node computed from it "
                    "has sent it theirs (reverse topological order). The order of a dict's "
                    "entries says nothing about the graph.",
        section=f"{PAGE}#one-sweep-forwards-per-input-one-sweep-back-for-all",
        kinds=("layer-order",),
    ),
]
