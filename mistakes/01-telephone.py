"""Assignment 1's catalogue of typical mistakes (grading/mistakes.py; the instructor guide,
"Adding a catalogued mistake"). Instructor side only: never released, never published."""

from grading.mistakes import Mistake

PAGE = "chapters/01-telephone.html"

MISTAKES = [
    Mistake(
        id="a1-rates-added",
        cell="telephone-line-error",
        replace=(("survival *= 1 - rate", "survival -= rate"),),
        tests=("telephone-line-error-tests",),
        title="the error rates added up",
        explanation="Error rates do not add: a letter arrives unchanged only if every "
                    "player leaves it alone, so the chances of getting through multiply, "
                    "and the error is one minus that product. Added rates can even exceed 1.",
        section=f"{PAGE}#the-team",
        kinds=("other",),
    ),
    Mistake(
        id="a1-last-player-only",
        cell="telephone-line-error",
        replace=(("survival *= 1 - rate", "survival = 1 - rate"),),
        tests=("telephone-line-error-tests",),
        title="only the last player's rate counts",
        explanation="Every player of the line can change a letter: the chance of getting "
                    "through must be updated with each player's rate, keeping what the "
                    "players before already did to it, not replaced by the last one's.",
        section=f"{PAGE}#the-team",
        kinds=("other",),
    ),
    Mistake(
        id="a1-rate-one-refused",
        cell="telephone-line-error",
        replace=(("if not 0 <= rate <= 1:", "if not 0 <= rate < 1:"),),
        tests=("telephone-line-error-tests",),
        title="a rate of exactly 1 refused",
        explanation="A probability may be 0 or 1: both ends of [0, 1] belong to it. A "
                    "player who changes every letter is allowed; only rates below 0 or "
                    "above 1 are errors.",
        section=f"{PAGE}#the-team",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a1-additive-answer",
        cell="telephone-max-second-rate",
        replace=(("max_second_rate = 0.16", "max_second_rate = 0.15"),),
        tests=("telephone-max-second-rate-tests",),
        title="the rates added instead of read off the slider",
        explanation="The slider draws your line_error, which multiplies the chances of "
                    "getting through: read the largest rate whose curve stays at or below "
                    "25%, rather than subtracting player 1's rate from the limit.",
        section=f"{PAGE}#the-team",
        kinds=("other",),
    ),
    Mistake(
        id="a1-backward-no-judge",
        cell="telephone-backward-count",
        replace=(("return speaker_edges + between_positions + judge_edges",
                  "return speaker_edges + between_positions"),),
        tests=("telephone-backward-count-tests",),
        title="the edges into the judge not counted",
        explanation="Count every edge of the threaded line once: the speakers' edges, the "
                    "edges between consecutive positions, and the edges from the last "
                    "position into the judge. The broadcast goes back along all of them.",
        section=f"{PAGE}#the-judge-s-broadcast",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a1-backward-positions-off-by-one",
        cell="telephone-backward-count",
        replace=(("between_positions = (players - 1) * groups * groups",
                  "between_positions = players * groups * groups"),),
        tests=("telephone-backward-count-tests",),
        title="one gap between positions too many",
        explanation="P positions have P − 1 gaps between consecutive positions; the first "
                    "position is reached from the speakers and the last one speaks to the "
                    "judge, which are counted apart.",
        section=f"{PAGE}#the-threaded-line",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a1-forward-no-single-player-case",
        cell="telephone-forward-count",
        replace=(("    if players == 1:\n"
                  "        return 2 * groups  # each speaker: her own edge and her player's "
                  "edge to the judge\n", ""),),
        tests=("telephone-forward-count-tests",),
        title="the general formula used for one player per group",
        explanation="With a single player per group there are no edges between positions: "
                    "the general count assumes a first and a last position that differ. "
                    "Check your formula on the smallest lines by walking the graph.",
        section=f"{PAGE}#walking-forwards",
        kinds=("off-by-one",),
    ),
    Mistake(
        id="a1-forward-int64-overflow",
        cell="telephone-forward-count",
        replace=(("(players - 2) * groups * groups", "(players - 2) * np.square(groups)"),),
        tests=("telephone-forward-count-tests",),
        title="numpy's 64-bit integers overflowed",
        explanation="numpy's integers have 64 bits and wrap around silently beyond about "
                    "9.2 × 10¹⁸; Python's own int never overflows. Keep the count in plain "
                    "Python integer arithmetic for very large lines.",
        section=f"{PAGE}#counting-messages",
        kinds=("other",),
    ),
    Mistake(
        id="a1-one-sided",
        cell="telephone-central-gradient",
        replace=(("gradient[i] = (f(x + nudge) - f(x - nudge)) / (2 * h)",
                  "gradient[i] = (f(x + nudge) - f(x)) / h"),),
        tests=("telephone-central-gradient-tests",),
        title="one-sided instead of central differences",
        explanation="A one-sided difference (f(x + h) − f(x)) / h is off by about h times "
                    "the curvature; the central difference, nudging each input both up and "
                    "down by h and dividing by 2h, is off by about h² only.",
        section=f"{PAGE}#nudging-one-run-per-number",
        kinds=("one-sided-difference",),
    ),
    Mistake(
        id="a1-nudge-in-place",
        cell="telephone-central-gradient",
        replace=(("        nudge = np.zeros_like(x)\n"
                  "        nudge[i] = h\n"
                  "        # x + nudge and x - nudge are new arrays, so the caller's x is "
                  "never touched\n"
                  "        gradient[i] = (f(x + nudge) - f(x - nudge)) / (2 * h)\n",
                  "        x[i] += h\n"
                  "        above = f(x)\n"
                  "        x[i] -= 2 * h\n"
                  "        below = f(x)\n"
                  "        gradient[i] = (above - below) / (2 * h)\n"),),
        tests=("telephone-central-gradient-tests",),
        title="the caller's x nudged in place and not put back",
        explanation="np.asarray does not copy an array of floats: nudging its entries "
                    "changes the caller's x, and an entry left nudged shifts every later "
                    "estimate. Nudge a new array (x plus a step), never x itself.",
        section=f"{PAGE}#nudging-one-run-per-number",
        kinds=("in-place",),
    ),
    Mistake(
        id="a1-step-not-doubled",
        cell="telephone-central-gradient",
        replace=(("(f(x + nudge) - f(x - nudge)) / (2 * h)",
                  "(f(x + nudge) - f(x - nudge)) / h"),),
        tests=("telephone-central-gradient-tests",),
        title="the central difference divided by h, not 2h",
        explanation="From x − h to x + h the input moves by 2h: the central difference is "
                    "the change of f divided by that distance. Divided by h, every entry of "
                    "the gradient comes out twice as large.",
        section=f"{PAGE}#nudging-one-run-per-number",
        kinds=("other",),
    ),
]
