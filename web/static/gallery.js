/* PixyProxy gallery: progressive enhancement over server-rendered pages (no build step).
 * Needs blurhash.js first. Blurhash placeholders, infinite scroll through the API's Link rel="next", the prompt
 * form (POST to the JSON API with progress and errors), copy-link and delete.
 * Everything here is optional: without JavaScript the pages still list, search and filter.
 */
(function () {
  "use strict";

  var blurhash = window.PixyBlurhash;

  function paintPlaceholder(canvas) {
    var hash = canvas.getAttribute("data-blurhash");
    if (!hash || canvas.getAttribute("data-painted")) { return; }
    var pixels = blurhash.decode(hash, canvas.width, canvas.height);
    if (!pixels) { return; }
    var context = canvas.getContext("2d");
    var image = context.createImageData(canvas.width, canvas.height);
    image.data.set(pixels);
    context.putImageData(image, 0, 0);
    canvas.setAttribute("data-painted", "1");
  }

  function paintAll(root) {
    var canvases = root.querySelectorAll("canvas.blur[data-blurhash]");
    for (var i = 0; i < canvases.length; i++) { paintPlaceholder(canvases[i]); }
  }

  /* ---- cards built from the API's ImageDetail JSON (same markup as _card.html) ---- */
  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function cardFor(image, grid) {
    var api = grid.dataset.apiBase + "/" + image.guid;
    var card = element("li", { "class": "card" });
    var link = element("a", { "class": "card-link", href: grid.dataset.viewBase + image.guid });
    var thumb = element("span", { "class": "thumb" });
    var colour = blurhash.averageColour(image.blurhash);
    if (colour) { thumb.style.backgroundColor = colour; }
    var canvas = element("canvas", {
      "class": "blur", width: "32", height: "32", "aria-hidden": "true",
      "data-blurhash": image.blurhash || ""
    });
    var img = element("img", {
      src: api + "/thumbnail", alt: image.prompt, loading: "lazy", decoding: "async",
      width: "256", height: "256"
    });
    thumb.appendChild(canvas);
    thumb.appendChild(img);
    link.appendChild(thumb);
    link.appendChild(element("span", { "class": "caption", "aria-hidden": "true" }, image.prompt));
    card.appendChild(link);
    if (image.tags && image.tags.length) {
      var tags = element("ul", { "class": "tags", "aria-label": "Tags" });
      image.tags.forEach(function (tag) {
        var item = element("li");
        item.appendChild(element("a", { href: grid.dataset.home + "?tag=" + encodeURIComponent(tag) }, "#" + tag));
        tags.appendChild(item);
      });
      card.appendChild(tags);
    }
    paintPlaceholder(canvas);
    return card;
  }

  /* ---- infinite scroll through Link: <…>; rel="next" ---- */
  function nextLink(header) {
    var match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header || "");
    return match ? match[1] : "";
  }

  function setUpScroll(grid) {
    var more = document.getElementById("more");
    var status = document.getElementById("grid-status");
    if (!more || !grid.dataset.next) { return; }
    var loading = false;
    var observer = null;

    function finish() {
      if (observer) { observer.disconnect(); }
      more.parentNode.removeChild(more);
    }

    function load() {
      var url = grid.dataset.next;
      if (loading || !url) { return; }
      loading = true;
      grid.setAttribute("aria-busy", "true");
      more.textContent = "Loading…";
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          grid.dataset.next = nextLink(response.headers.get("Link"));
          return response.json();
        })
        .then(function (images) {
          loading = false;
          images.forEach(function (image) { grid.appendChild(cardFor(image, grid)); });
          status.textContent = "Loaded " + images.length + " more images.";
          more.textContent = "More images";
          if (!grid.dataset.next) { finish(); return; }
          // The observer only reports changes: on a tall screen the link may still be in reach.
          if (observer && more.getBoundingClientRect().top < window.innerHeight + 600) {
            window.setTimeout(load, 0);
          }
        })
        .catch(function () {
          loading = false;
          more.textContent = "Could not load more images. Try again";
        })
        .then(function () {
          grid.removeAttribute("aria-busy");
        });
    }

    more.addEventListener("click", function (event) { event.preventDefault(); load(); });
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) { load(); }
      }, { rootMargin: "600px 0px" });
      observer.observe(more);
    }
  }

  /* ---- the prompt form ---- */
  function idempotencyKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  var FIELD_NAMES = { prompt: "Prompt", tags: "Tags", size: "Size", quality: "Quality" };

  function detailText(detail) {
    var parts = (detail.loc || []).filter(function (part) { return part !== "body"; });
    var field = FIELD_NAMES[parts[0]] || parts.join(" ") || "Request";
    if (parts[0] === "tags" && typeof parts[1] === "number") {
      field = "Tag " + (parts[1] + 1);
      if (detail.type === "string_pattern_mismatch") {
        return field + ": use only letters, digits, - and _ (at most 64).";
      }
    }
    return field + ": " + detail.msg + ".";
  }

  function describeError(status, body, retryAfter) {
    var message = (body && body.message) || "";
    if (status === 422 && body && body.error === "prompt_rejected") {
      return { title: "The generator refused this prompt.", text: message + " Try describing it differently." };
    }
    if (status === 422) {
      var details = (body && body.details || []).map(detailText);
      return { title: "Please check the form.", text: message, items: details };
    }
    if (status === 429) {
      return { title: "Too many requests.", text: retryAfter ? "You can try again in " + retryAfter + " s." : message, wait: retryAfter };
    }
    if (status === 504) {
      return { title: "The image generator timed out.", text: "Nothing was stored. It may be busy: please try again." };
    }
    if (status === 502) {
      return { title: "The image generator failed.", text: message + " Nothing was stored: please try again." };
    }
    if (status === 503) {
      return { title: "The service is unavailable right now.", text: message + (retryAfter ? " Try again in " + retryAfter + " s." : ""), wait: retryAfter };
    }
    if (status === 401) {
      return { title: "Your credentials were not accepted.", text: "Reload the page to sign in again." };
    }
    if (status === 409) {
      return { title: "This request is already being handled.", text: message };
    }
    return { title: "Something went wrong (" + status + ").", text: message };
  }

  function setUpCreate(form, grid) {
    var button = document.getElementById("create-button");
    var progress = document.getElementById("create-progress");
    var elapsed = document.getElementById("create-elapsed");
    var status = document.getElementById("create-status");
    var alertBox = document.getElementById("create-error");
    var label = button.textContent;
    var timer = null;
    document.getElementById("create-fields").disabled = false;
    document.getElementById("needs-js").hidden = true;

    function showError(info) {
      alertBox.textContent = "";
      alertBox.appendChild(element("strong", {}, info.title));
      if (info.text) { alertBox.appendChild(document.createTextNode(" " + info.text.trim())); }
      if (info.items && info.items.length) {
        var list = element("ul");
        info.items.forEach(function (item) { list.appendChild(element("li", {}, item)); });
        alertBox.appendChild(list);
      }
      alertBox.hidden = false;
    }

    function busy(on) {
      var started = Date.now();
      button.disabled = on;
      progress.hidden = !on;
      form.setAttribute("aria-busy", on ? "true" : "false");
      clearInterval(timer);
      if (on) {
        button.textContent = "Generating…";
        elapsed.textContent = "0 s";
        timer = setInterval(function () {
          var seconds = Math.round((Date.now() - started) / 1000);
          elapsed.textContent = seconds + " s" + (seconds >= 10 ? " · can take a minute" : "");
        }, 1000);
      } else {
        button.textContent = label;
      }
    }

    function waitBeforeRetry(seconds) {
      var left = parseInt(seconds, 10);
      if (!(left > 0)) { return; }
      button.disabled = true;
      button.textContent = "Wait " + left + " s";
      var countdown = setInterval(function () {
        left -= 1;
        button.textContent = "Wait " + left + " s";
        if (left <= 0) { clearInterval(countdown); button.disabled = false; button.textContent = label; }
      }, 1000);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var prompt = form.elements.prompt.value.trim();
      if (!prompt) { form.elements.prompt.focus(); return; }
      var body = {
        prompt: prompt,
        tags: form.elements.tags.value.split(/[\s,]+/).filter(Boolean),
        size: form.elements.size.value,
        quality: form.elements.quality.value
      };
      alertBox.hidden = true;
      status.className = "status";
      status.textContent = "Generating your image. This can take up to a minute.";
      busy(true);
      fetch(form.dataset.endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": idempotencyKey() },
        body: JSON.stringify(body)
      })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (json) {
            return { response: response, json: json };
          });
        })
        .then(function (result) {
          busy(false);
          var response = result.response;
          if (response.status === 201 && result.json) {
            var card = cardFor(result.json, grid);
            card.classList.add("new");
            grid.insertBefore(card, grid.firstChild);
            var empty = document.getElementById("empty");
            if (empty) { empty.hidden = true; }
            status.className = "status ok";
            status.textContent = "Your image is ready: ";
            status.appendChild(element("a", { href: grid.dataset.viewBase + result.json.guid }, "open it"));
            form.elements.prompt.value = "";
            return;
          }
          status.textContent = "";
          var retryAfter = response.headers.get("Retry-After");
          var info = describeError(response.status, result.json, retryAfter);
          showError(info);
          if (info.wait) { waitBeforeRetry(info.wait); }
        })
        .catch(function () {
          busy(false);
          status.textContent = "";
          showError({ title: "Could not reach the server.", text: "Check your connection and try again." });
        });
    });
  }

  /* ---- one image's page ---- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = element("textarea", { readonly: "", "aria-hidden": "true" });
      area.value = text;
      area.style.position = "fixed"; area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function setUpImagePage() {
    var status = document.getElementById("action-status");
    var copy = document.getElementById("copy-link");
    if (copy) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        var url = new URL(copy.dataset.url, window.location.href).href;
        copyText(url).then(function () {
          status.textContent = "Link copied to the clipboard.";
        }, function () {
          status.textContent = "Copy this link: " + url;
        });
      });
    }
    var remove = document.getElementById("delete");
    if (remove) {
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if (!window.confirm("Delete this image for good?")) { return; }
        remove.disabled = true;
        status.textContent = "Deleting…";
        fetch(remove.dataset.endpoint, { method: "DELETE", credentials: "same-origin" })
          .then(function (response) {
            if (response.status === 204) {
              status.textContent = "Deleted.";
              window.location.assign(remove.dataset.home);
              return;
            }
            remove.disabled = false;
            status.textContent = response.status === 404
              ? "Only its author can delete this image."
              : "Could not delete the image (" + response.status + ").";
          }, function () {
            remove.disabled = false;
            status.textContent = "Could not reach the server.";
          });
      });
    }
  }

  function start() {
    paintAll(document);
    var grid = document.getElementById("grid");
    if (grid) { setUpScroll(grid); }
    var form = document.getElementById("create-form");
    if (form && grid) { setUpCreate(form, grid); }
    setUpImagePage();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
