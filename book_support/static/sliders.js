// The book's kernel-free sliders, without the Jupyter widgets manager (3.6 MB).
//
// bplib.widgets builds them with ipywidgets: a VBox of SelectionSliders and a Stack of
// frames (HTML), the slider's index jslinked to the Stack's selected_index. myst-nb saves
// that state in the page; this script reads it and draws each slider as a native
// <input type=range> (keyboard and screen readers know it), its label and its readout,
// and shows the selected frame, inserting it only when it is shown (so only the frames a
// reader looks at are fetched). Models other than these are shown as a note.
(function () {
  "use strict";
  var STATE = "application/vnd.jupyter.widget-state+json";
  var VIEW = "application/vnd.jupyter.widget-view+json";
  var PREFIX = "IPY_MODEL_";
  var models = {};
  var watchers = {};  // "model attribute" -> [function (value)]

  function id(reference) {
    return typeof reference === "string" && reference.indexOf(PREFIX) === 0
      ? reference.slice(PREFIX.length) : null;
  }

  function watch(model, attribute, callback) {
    var key = model + " " + attribute;
    (watchers[key] = watchers[key] || []).push(callback);
  }

  function set(model, attribute, value) {
    var state = models[model] && models[model].state;
    if (!state || state[attribute] === value) { return; }
    state[attribute] = value;
    (watchers[model + " " + attribute] || []).forEach(function (callback) { callback(value); });
  }

  function link(state) {
    var source = state.source || [], target = state.target || [];
    var from = id(source[0]), to = id(target[0]);
    if (!from || !to) { return; }
    watch(from, source[1], function (value) { set(to, target[1], value); });
    watch(to, target[1], function (value) { set(from, source[1], value); });
  }

  var LAYOUT = ["width", "max_width", "min_width", "height", "margin", "padding"];
  function layout(element, state) {
    var style = models[id(state.layout)];
    if (!style) { return; }
    LAYOUT.forEach(function (name) {
      var value = style.state[name];
      if (value) { element.style[name.replace(/_(\w)/g, function (_, c) { return c.toUpperCase(); })] = value; }
    });
  }

  var count = 0;
  function slider(model, state) {
    var labels = state._options_labels || [];
    var box = document.createElement("div");
    box.className = "widget-slider bp-slider";
    var number = "bp-slider-" + (++count);
    var label = document.createElement("label");
    label.className = "widget-label";
    label.htmlFor = number;
    label.textContent = state.description || "";
    var input = document.createElement("input");
    input.type = "range";
    input.id = number;
    input.min = 0;
    input.max = Math.max(labels.length - 1, 0);
    input.step = 1;
    input.value = state.index || 0;
    input.setAttribute("role", "slider");
    input.setAttribute("aria-label", label.textContent);
    var readout = document.createElement("output");
    readout.className = "widget-readout";
    readout.htmlFor = number;
    readout.setAttribute("aria-hidden", "true");
    function show(index) {
      input.value = index;
      readout.textContent = labels[index] === undefined ? "" : labels[index];
      input.setAttribute("aria-valuetext", readout.textContent);
    }
    show(state.index || 0);
    input.addEventListener("input", function () { set(model, "index", Number(input.value)); });
    watch(model, "index", show);
    box.append(label, input, readout);
    layout(box, state);
    return box;
  }

  function stack(model, state) {
    var box = document.createElement("div");
    box.className = "widget-stack bp-stack";
    var children = (state.children || []).map(id);
    var drawn = {};
    function show(index) {
      if (!drawn[index] && children[index]) { drawn[index] = render(children[index]); }
      box.replaceChildren(drawn[index] || "");
    }
    show(state.selected_index || 0);
    watch(model, "selected_index", show);
    return box;
  }

  function render(model) {
    var entry = models[model];
    if (!entry) { return document.createTextNode(""); }
    var state = entry.state, name = entry.model_name;
    var element;
    if (name === "VBoxModel" || name === "HBoxModel" || name === "BoxModel") {
      element = document.createElement("div");
      element.className = name === "HBoxModel" ? "widget-hbox bp-box" : "widget-vbox bp-box";
      (state.children || []).forEach(function (child) { element.append(render(id(child))); });
    } else if (name === "SelectionSliderModel") {
      element = slider(model, state);
    } else if (name === "StackModel") {
      element = stack(model, state);
    } else if (name === "HTMLModel") {
      element = document.createElement("div");
      element.className = "widget-html";
      var content = document.createElement("div");
      content.className = "widget-html-content";
      content.innerHTML = state.value || "";
      element.append(content);
    } else {
      element = document.createElement("p");
      element.className = "bp-widget-missing";
      element.textContent = "(" + name.replace(/Model$/, "") + ": run the notebook to see it)";
    }
    return element;
  }

  function start() {
    document.querySelectorAll('script[type="' + STATE + '"]').forEach(function (script) {
      var saved = JSON.parse(script.textContent).state || {};
      Object.keys(saved).forEach(function (key) { models[key] = saved[key]; });
    });
    Object.keys(models).forEach(function (key) {
      if (models[key].model_name === "LinkModel") { link(models[key].state); }
    });
    document.querySelectorAll('script[type="' + VIEW + '"]').forEach(function (script) {
      var view = JSON.parse(script.textContent);
      var area = document.createElement("div");
      area.className = "widget-subarea bp-widget";
      area.append(render(view.model_id));
      script.after(area);
    });
    document.documentElement.dataset.slidersReady = String(Math.round(performance.now()));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
