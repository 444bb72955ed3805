// Typesets the book's formulas once, when the book is built (book_support/typeset.py).
//
//     node book_support/typeset.js NODE_MODULES < pages.json > typeset.json
//
// Reads [{"page": name, "formulas": [[tex, display], ...]}, ...] and writes {"pages": [{"html": [...],
// "glyphs": "<svg>...</svg>"}, ...], "css": "..."}: each formula as MathJax's SVG output
// (the colour is the text's) with its MathML for screen readers beside it
// (mjx-assistive-mml); the glyphs a page's formulas use, as paths, once per page (the
// formulas refer to them, so no font is downloaded); and the stylesheet they need. A formula MathJax cannot read (an unknown macro, a missing
// brace) is reported with its TeX and the exit status is 1: the build fails, where the
// reader's browser would have shown red text.
"use strict";

const path = require("path");
const mathjaxDir = path.join(process.argv[2], "mathjax");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", chunk => { input += chunk; });
process.stdin.on("end", () => {
  const pages = JSON.parse(input);
  const errors = [];
  require(mathjaxDir).init({
    loader: {paths: {mathjax: path.join(mathjaxDir, "es5")},
             load: ["input/tex", "output/svg", "a11y/assistive-mml"]},
    // noundefined would draw an unknown macro in red: let it be an error instead
    tex: {packages: {"[-]": ["noundefined"]},
          formatError: (jax, error) => { throw error; }},
    // the glyphs in one <defs> per page (global), cleared before the next page
    svg: {fontCache: "global"},
    startup: {typeset: false},
  }).then(async MathJax => {
    const adaptor = MathJax.startup.adaptor;
    const fontCache = MathJax.startup.output.fontCache;
    const typeset = [];
    for (const {page, formulas} of pages) {
      fontCache.clearCache();
      const html = [];
      for (const [tex, display] of formulas) {
        // one at a time: a formula may first load a TeX extension (autoload)
        try {
          html.push(adaptor.outerHTML(await MathJax.tex2svgPromise(tex, {display})));
        } catch (error) {
          errors.push(`${page}: ${error.message} in: ${tex}`);
          html.push("");
        }
      }
      const glyphs = `<svg class="bp-math-glyphs" style="display: none" aria-hidden="true" `
          + `xmlns="http://www.w3.org/2000/svg">${adaptor.outerHTML(fontCache.getCache())}</svg>`;
      typeset.push({html, glyphs});
    }
    if (errors.length) {
      process.stderr.write(`MathJax could not typeset ${errors.length} formula(s):\n`
                           + errors.join("\n") + "\n");
      process.exit(1);
    }
    const css = adaptor.textContent(MathJax.svgStylesheet());
    process.stdout.write(JSON.stringify({pages: typeset, css}));
  }).catch(error => {
    process.stderr.write(`MathJax failed: ${error.stack || error}\n`);
    process.exit(1);
  });
});
