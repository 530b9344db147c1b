/* The campaign site's small script: the sign form, the countdown, the mission directory's
 * filter and sort, the mission finder, print and share buttons.
 *
 * Material's instant navigation swaps pages without reloading scripts, so everything is set up
 * from `document$` (emitted on every page), and each element is bound once (data-bound).
 * Text goes into the page with textContent only, never innerHTML. Its words come from the page's
 * catalogue: `_()` and `ngettext()` read the JSON that docs/overrides/main.html writes into every
 * page (`#campaign-messages`, from locale/<lang>/LC_MESSAGES/messages.po; English when missing),
 * and `pybabel extract` finds them here (README, "Translating").
 */
(function () {
  "use strict";

  // --- words ----------------------------------------------------------------------------------
  var WORDS = (function () {
    var el = document.getElementById("campaign-messages");
    try { return (el && JSON.parse(el.textContent)) || {}; } catch (e) { return {}; }
  })();
  var MESSAGES = WORDS.messages || {};

  /* "%(name)s" in `text` replaced by values.name. */
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function _(message, values) {
    var found = MESSAGES[message];
    return fill(typeof found === "string" && found ? found : message, values);
  }

  /* The form of a plural message for n: the language's CLDR category (Intl.PluralRules), in
   * gettext's order of forms (WORDS.plural); %(num)s is n, written the language's way. */
  function ngettext(singular, plural, n, values) {
    var forms = MESSAGES[singular];
    var text = n === 1 ? singular : plural;
    if (Array.isArray(forms) && window.Intl && Intl.PluralRules) {
      var index = (WORDS.plural || []).indexOf(new Intl.PluralRules(WORDS.lang).select(n));
      text = forms[index >= 0 && index < forms.length ? index : forms.length - 1] || text;
    }
    var num = window.Intl ? new Intl.NumberFormat(WORDS.lang).format(n) : String(n);
    return fill(text, Object.assign({ num: num }, values));
  }

  // --- name rules: the same as scripts/campaign/data/text.py (clean_name) -------------------------
  var NAME_MAX = 200;
  var MARKS_MAX = 4;
  var FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;
  // text.py's _INVISIBLE: default-ignorable marks and letters, and the braille blank
  var INVISIBLE = /[\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u2800\u3164\uFE00-\uFE0F\uFFA0\u{E0000}-\u{E0FFF}]/u;
  var LETTER = /\p{L}/u;
  var MARK = /\p{M}/u;

  function codePoint(ch) {
    return "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
  }

  /* {value} when the name is accepted, else {error}: the checks and their order of clean_name. */
  function cleanName(raw) {
    var bad = raw.match(FORBIDDEN);
    if (bad) {
      return { error: _("Your name contains an invisible or control character (%(code)s); retype it without it.", { code: codePoint(bad[0]) }) };
    }
    var hidden = raw.match(INVISIBLE);
    if (hidden) return { error: _("Your name contains an invisible character (%(code)s); retype it without it.", { code: codePoint(hidden[0]) }) };
    var name = raw.normalize("NFKC").replace(/\s+/gu, " ").trim();
    if (!name) return { error: _("Give your full name.") };
    var length = Array.from(name).length;
    if (length > NAME_MAX) return { error: _("Your name is %(length)s characters long; shorten it to at most %(max)s.", { length: length, max: NAME_MAX }) };
    if (!LETTER.test(name)) return { error: _("Your name has no letters; give it in words.") };
    var run = 0;
    var flooded = Array.from(name.normalize("NFD")).some(function (ch) {
      run = MARK.test(ch) ? run + 1 : 0;
      return run > MARKS_MAX;
    });
    if (flooded) return { error: _("Your name stacks more than %(max)s accents on one letter; remove the extra ones.", { max: MARKS_MAX }) };
    return { value: name };
  }

  /* The duplicate key of text.py (name_key): NFKC, case-folded, whitespace collapsed. */
  function nameKey(name) {
    var folded = name.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
    return folded.replace(/\s+/gu, " ").trim();
  }

  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  function yamlQuote(text) {
    return "'" + String(text).replace(/'/g, "''") + "'";
  }

  function today() {
    var d = new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  /* data/signatories/<2>/<16>.yaml as signatures.relative_path names it (SHA-256 of key and country). */
  function signaturePath(name, country) {
    var fallback = "data/signatories/github/" + (nameKey(name).normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "signature") + "-" + country.toLowerCase() + ".yaml";
    if (!(window.crypto && window.crypto.subtle && window.TextEncoder)) return Promise.resolve(fallback);
    var bytes = new TextEncoder().encode(nameKey(name) + "\u0000" + country);
    return window.crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
      var h = hex(digest);
      return "data/signatories/" + h.slice(0, 2) + "/" + h.slice(2, 18) + ".yaml";
    }, function () { return fallback; });
  }

  // --- the sign form ---------------------------------------------------------------------------

  function field(form, name) { return form.elements.namedItem(name); }

  function showError(form, name, message) {
    var input = field(form, name);
    var box = form.querySelector('[data-error-for="' + name + '"]');
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      showError(form, box.getAttribute("data-error-for"), "");
    });
  }

  /* Check every field; show each error next to its field; return the payload or null. */
  function validate(form) {
    clearErrors(form);
    var errors = {};
    var name = cleanName(field(form, "name").value);
    if (name.error) errors.name = name.error;
    var country = field(form, "country").value;
    if (!country) errors.country = _("Choose your country of residence.");
    var email = field(form, "email");
    if (email) {
      var address = email.value.trim();
      if (!address) errors.email = _("Give your email address: we send one email to confirm your signature.");
      else if (address.length > 320 || !EMAIL.test(address)) errors.email = _("This is not a valid email address.");
    }
    var mission = field(form, "mission").value;
    if (!mission) errors.mission = _("Choose the country whose UK mission should receive your letter.");
    var names = Object.keys(errors);
    names.forEach(function (key) { showError(form, key, errors[key]); });
    if (names.length) {
      var first = field(form, names[0]);
      if (first && first.focus) first.focus();
      return null;
    }
    return {
      name: name.value,
      country: country,
      email: email ? email.value.trim() : undefined,
      mission: mission,
      publish: field(form, "publish").checked,
      letter: field(form, "letter").checked,
      followup: field(form, "followup") ? field(form, "followup").checked : undefined,
      consent: form.getAttribute("data-consent-version"),
      language: form.getAttribute("data-language") || undefined,
      website: field(form, "website").value
    };
  }

  function say(form, text, state) {
    var box = form.querySelector("[data-sign-result]");
    box.textContent = text;
    if (state) box.setAttribute("data-state", state); else box.removeAttribute("data-state");
  }

  /* The intake's answer is where the visitor reads on: focus moves there (a keyboard or screen
   * reader user would otherwise stay on the button, not knowing what happened). */
  function focusResult(form) {
    var box = form.querySelector("[data-sign-result]");
    if (box && box.focus) box.focus();
  }

  /* Field errors from the intake service: `{"errors": {field: [messages]}}` (campaign serve),
   * or the list shapes other JSON APIs use (`{"detail": [{"loc": [...], "msg": ...}]}`). */
  function serverErrors(body) {
    var found = {};
    if (!body || typeof body !== "object") return found;
    var errors = body.errors || body.fields || body.detail;
    if (Array.isArray(errors)) {
      errors.forEach(function (e) {
        if (!e || typeof e !== "object") return;
        var where = e.field || (Array.isArray(e.loc) ? e.loc[e.loc.length - 1] : null);
        var message = e.message || e.msg;
        if (where && message) found[String(where)] = String(message);
      });
    } else if (errors && typeof errors === "object") {
      Object.keys(errors).forEach(function (key) {
        var value = errors[key];
        found[key] = Array.isArray(value) ? value.join(" ") : String(value);
      });
    }
    return found;
  }

  function submitToIntake(form, payload) {
    var endpoint = (form.getAttribute("data-endpoint") || "").replace(/\/+$/, "");
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    say(form, _("Sending…"));
    fetch(endpoint + "/api/signatures", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload),
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    }).then(function (result) {
      button.disabled = false;
      if (result.ok) {
        form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select").forEach(function (el) {
          if (el.name === "name" || el.name === "email") el.value = "";
        });
        say(form, (result.body && result.body.message) ||
          _("Thank you! Check your inbox: your signature counts once you confirm it with the link we sent you."), "ok");
        focusResult(form);
        return;
      }
      var errors = serverErrors(result.body);
      var shown = 0;
      Object.keys(errors).forEach(function (key) {
        if (form.querySelector('[data-error-for="' + key + '"]')) { showError(form, key, errors[key]); shown++; }
      });
      var message = (result.body && (result.body.message || (typeof result.body.detail === "string" && result.body.detail))) ||
        (result.status === 429 ? _("Too many attempts from your connection; try again in a few minutes.") :
          shown ? _("Please correct the fields marked above.") : _("The signature could not be sent (error %(status)s).", { status: result.status }));
      say(form, message, "error");
      focusResult(form);
    }).catch(function () {
      button.disabled = false;
      say(form, _("The signature could not be sent: check your connection and try again."), "error");
      focusResult(form);
    });
  }

  function prepareGithub(form, payload) {
    var repo = form.getAttribute("data-repository");
    var branch = form.getAttribute("data-branch") || "main";
    var schema = form.getAttribute("data-schema");
    var text = "# yaml-language-server: $schema=" + schema + "\n" +
      "type: 'individual'\n" +
      "name: " + yamlQuote(payload.name) + "\n" +
      "country: " + yamlQuote(payload.country) + "\n" +
      "mission: " + yamlQuote(payload.mission) + "\n" +
      "signed: " + yamlQuote(today()) + "\n" +
      "publish: " + (payload.publish ? "true" : "false") + "\n" +
      "letter: " + (payload.letter ? "true" : "false") + "\n" +
      "consent: " + yamlQuote(payload.consent) + "\n" +
      (payload.language && payload.language !== "en" ? "language: " + yamlQuote(payload.language) + "\n" : "") +
      "source: 'pull-request'\n";
    return signaturePath(payload.name, payload.country).then(function (path) {
      var link = form.querySelector("[data-github-link]");
      link.href = "https://github.com/" + repo + "/new/" + encodeURIComponent(branch) +
        "?filename=" + encodeURIComponent(path) + "&value=" + encodeURIComponent(text);
      link.textContent = _("Open your signature on GitHub");
      link.setAttribute("data-ready", "true");
      say(form, _("Your signature is ready. Open it on GitHub, check it and choose “Propose new file”, then “Create pull request”: it counts once a maintainer merges it."), "ok");
      link.focus();
    });
  }

  function bindForm(form) {
    var country = field(form, "country");
    var mission = field(form, "mission");
    mission.addEventListener("change", function () { mission.setAttribute("data-touched", "true"); });
    country.addEventListener("change", function () {
      if (mission.getAttribute("data-touched")) return;
      var option = Array.prototype.find.call(mission.options, function (o) {
        return o.getAttribute("data-country") === country.value;
      });
      // Select this very option: several countries share a mission id, and setting the value
      // would select the first of them (Cabo Verde's label for Portugal).
      if (option) option.selected = true;
    });
    ["name", "email", "country", "mission"].forEach(function (key) {
      var input = field(form, key);
      if (input) input.addEventListener("input", function () { showError(form, key, ""); });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = validate(form);
      if (!payload) { say(form, _("Please correct the fields marked above."), "error"); return; }
      if (form.hasAttribute("data-endpoint")) submitToIntake(form, payload);
      else prepareGithub(form, payload);
    });
  }

  // --- the countdown ---------------------------------------------------------------------------

  var timers = [];

  function bindCountdown(el) {
    var parts = el.getAttribute("data-countdown").split(/[-T:]/).map(Number);
    var target = new Date(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5] || 0);
    var clock = el.querySelector("[data-countdown-clock]");
    function tick() {
      var left = target - new Date();
      if (left <= 0) {
        clock.textContent = el.getAttribute("data-countdown-done");
        clock.hidden = false;
        return false;
      }
      var days = Math.floor(left / 864e5), hours = Math.floor(left / 36e5) % 24, minutes = Math.floor(left / 6e4) % 60;
      var parts = {
        days: ngettext("%(num)s day", "%(num)s days", days),
        hours: ngettext("%(num)s hour", "%(num)s hours", hours),
        minutes: ngettext("%(num)s minute", "%(num)s minutes", minutes)
      };
      clock.textContent = _("%(days)s, %(hours)s, %(minutes)s to go", parts);
      clock.hidden = false;
      return true;
    }
    if (tick()) timers.push(setInterval(tick, 30000));
  }

  // --- the mission directory -------------------------------------------------------------------

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function bindFilter(box) {
    var table = document.getElementById(box.getAttribute("data-table-filter"));
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var text = box.querySelector("[data-filter-text]");
    var type = box.querySelector("[data-filter-type]");
    var primary = box.querySelector("[data-filter-primary]");
    var check = box.querySelector("[data-filter-check]");
    var count = box.querySelector("[data-filter-count]");
    var keys = rows.map(function (row) { return fold(row.textContent); });
    function apply() {
      var words = fold(text.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var ok = words.every(function (w) { return keys[i].indexOf(w) !== -1; }) &&
          (!type.value || row.getAttribute("data-type") === type.value) &&
          (!primary.checked || row.getAttribute("data-primary") === "yes") &&
          (!check || !check.checked || row.getAttribute("data-check") === "yes");
        row.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = ngettext("%(shown)s of %(num)s mission shown", "%(shown)s of %(num)s missions shown", rows.length, { shown: shown });
    }
    [text, type, primary, check].filter(Boolean).forEach(function (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); });
    apply();
  }

  function bindSort(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, column) {
      var button = th.querySelector("[data-sort]");
      if (!button) return;
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var numeric = button.hasAttribute("data-sort-numeric");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var value = function (row) {
          var cell = row.cells[column];
          var raw = cell.getAttribute("data-value") || cell.textContent.trim();
          return numeric ? Number(raw) : raw;
        };
        var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
        rows.sort(function (a, b) {
          var x = value(a), y = value(b);
          var order = numeric ? x - y : collator.compare(x, y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  }

  // --- small things ----------------------------------------------------------------------------

  function bindFinder(form) {
    var select = form.querySelector("[data-mission-finder-select]");
    function go() { if (select.value) window.location.assign(select.value); }
    select.addEventListener("change", go);
    form.addEventListener("submit", function (event) { if (select.value) { event.preventDefault(); go(); } });
  }

  function bindShare(button) {
    button.addEventListener("click", function () {
      var url = button.getAttribute("data-share-url");
      var status = document.querySelector("[data-share-status]");
      var done = function (text) { if (status) status.textContent = text; };
      if (navigator.share) {
        navigator.share({ title: button.getAttribute("data-share-title"), url: url }).catch(function () {});
      } else if (navigator.clipboard) {
        navigator.clipboard.writeText(url).then(function () { done(_("Link copied.")); }, function () { done(url); });
      } else {
        done(url);
      }
    });
  }

  /* Instant navigation swaps the page's content and head, not the header: point the language
   * menu at this page in each language again, from the head's <link rel="alternate" hreflang>. */
  function updateLanguages() {
    document.querySelectorAll(".md-select__list a[data-campaign-language]").forEach(function (a) {
      var alt = document.head.querySelector('link[rel="alternate"][hreflang="' + a.getAttribute("hreflang") + '"]');
      if (alt) a.href = alt.href;
    });
  }

  var BINDINGS = [
    ["[data-sign-form]", bindForm],
    ["[data-countdown]", bindCountdown],
    ["[data-table-filter]", bindFilter],
    ["table[data-sortable]", bindSort],
    ["[data-mission-finder]", bindFinder],
    ["[data-share-url]", bindShare],
    ["[data-print]", function (b) { b.addEventListener("click", function () { window.print(); }); }]
  ];

  function init() {
    updateLanguages();
    timers.forEach(clearInterval);
    timers = [];
    BINDINGS.forEach(function (binding) {
      document.querySelectorAll(binding[0]).forEach(function (el) {
        if (el.hasAttribute("data-bound")) return;
        el.setAttribute("data-bound", "");
        binding[1](el);
      });
    });
  }

  window.campaign = { cleanName: cleanName, nameKey: nameKey };
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
