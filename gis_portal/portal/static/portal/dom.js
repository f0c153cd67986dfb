/* Page content from data is built as DOM nodes, never as HTML: text goes in as text nodes, attributes
   through setAttribute, styles through the CSSOM (which the Content-Security-Policy allows, unlike
   style attributes in markup). Used by every page's script; Leaflet tooltips and popups are given
   the elements, because Leaflet inserts a string as HTML. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";

  // Children: nodes, strings and numbers (as text), arrays of them; null, undefined and false are skipped.
  function append(parent, children) {
    if (children === null || children === undefined || children === false) { return parent; }
    if (Array.isArray(children)) {
      children.forEach(function (child) { append(parent, child); });
    } else if (children instanceof Node) {
      parent.appendChild(children);
    } else {
      parent.appendChild(document.createTextNode(String(children)));
    }
    return parent;
  }

  function setAttributes(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (/^on/i.test(name)) { throw new Error("event handler attributes are not set from data: " + name); }
      if (name === "style") {
        Object.keys(value).forEach(function (property) { node.style.setProperty(property, value[property]); });
      } else if (name === "href" && /^\s*(javascript|data|vbscript):/i.test(String(value))) {
        throw new Error("refused link: " + value);
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    return node;
  }

  // el("li", {class: "empty", "data-id": 3, style: {background: "#fff"}}, ["text", otherNode])
  function el(tag, attrs, children) {
    return append(setAttributes(document.createElement(tag), attrs), children);
  }

  function svg(tag, attrs, children) {
    return append(setAttributes(document.createElementNS(SVG_NS, tag), attrs), children);
  }

  // Replace a node's content with the given children.
  function fill(node, children) {
    node.replaceChildren();
    return append(node, children);
  }

  // A Leaflet tooltip or popup content: a span holding the text (a fresh one each time it opens).
  function textContent(text, className) {
    return function () { return el("span", className ? { "class": className } : null, text === null || text === undefined ? "" : text); };
  }

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  window.portalDom = { el: el, svg: svg, append: append, fill: fill, text: textContent, readJSON: readJSON };
})();
