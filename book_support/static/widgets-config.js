// Set-up for the Jupyter widgets HTML manager, loaded after require.js and before it.
(function () {
  // The manager finds its font files next to the module that asks for them: point that
  // module at the folder this script was served from, so the fonts come from the book
  // itself whatever the page's depth.
  var here = document.currentScript.src;
  var folder = here.slice(0, here.lastIndexOf("/") + 1);
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": folder + "html-manager" } });

  // The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the book runs
  // MathJax 3, which has typesetPromise instead. MathJax 3 replaces window.MathJax when it
  // starts, so the bridge is added both before and after that.
  var hub = {
    Queue: function (job) {
      var mathjax = window.MathJax;
      if (mathjax && mathjax.typesetPromise) {
        mathjax.typesetPromise([job[2]]).catch(function (error) { console.warn(error); });
      }
    },
  };
  function bridge() {
    if (window.MathJax && !window.MathJax.Hub) { window.MathJax.Hub = hub; }
  }
  bridge();
  document.addEventListener("DOMContentLoaded", bridge);
})();
