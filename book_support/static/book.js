// Kernel-free sliders for every reader: a screen reader hears the slider's label as its
// name and the value shown ("30%") rather than the option's index, and the readout is
// text, not an input. The widgets render after the page, so new ones are watched for.
(function () {
  function label(slider) {
    var text = slider.querySelector(".widget-label");
    return text ? text.textContent.trim() : "";
  }

  function sync(slider) {
    var handle = slider.querySelector(".noUi-handle[role=slider]");
    var readout = slider.querySelector(".widget-readout");
    if (!handle || !readout) { return; }
    var name = label(slider);
    if (name && handle.getAttribute("aria-label") !== name) {
      handle.setAttribute("aria-label", name);
    }
    var shown = readout.textContent.trim();
    if (shown && handle.getAttribute("aria-valuetext") !== shown) {
      handle.setAttribute("aria-valuetext", shown);
    }
  }

  function prepare(slider) {
    if (slider.dataset.bpReady) { return; }
    var readout = slider.querySelector(".widget-readout");
    if (!slider.querySelector(".noUi-handle[role=slider]") || !readout) { return; }
    slider.dataset.bpReady = "1";
    readout.setAttribute("contenteditable", "false");
    readout.removeAttribute("tabindex");
    readout.setAttribute("aria-hidden", "true");
    var watch = new MutationObserver(function () { sync(slider); });
    watch.observe(slider, { subtree: true, childList: true, characterData: true,
                            attributes: true, attributeFilter: ["aria-valuetext", "contenteditable"] });
    sync(slider);
  }

  function scan() {
    document.querySelectorAll(".widget-slider").forEach(prepare);
    document.querySelectorAll(".widget-readout[contenteditable=true]").forEach(function (r) {
      r.setAttribute("contenteditable", "false");
    });
  }

  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", scan);
})();
