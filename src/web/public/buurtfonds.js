// buurtfonds: small improvements on top of pages that work without JavaScript.
// - budget and cost lines: "add a line" without a round trip, and the total as you type;
// - uploads: a progress bar while the form and its files are sent;
// - conditional fields: shown only when the answer they belong to is chosen.
'use strict';

(function () {
  /** "1.234,50", "1234.50", "450" → cents, or NaN. The server parses the same way. */
  function parseEuros(text) {
    var s = String(text).replace(/[€\s]/g, '');
    if (s === '') return NaN;
    if (s.indexOf(',') >= 0) s = s.replace(/\./g, '').replace(',', '.');
    else if (/^\d{1,3}(\.\d{3})+$/.test(s)) s = s.replace(/\./g, '');
    if (!/^\d+(\.\d{1,2})?$/.test(s)) return NaN;
    var parts = s.split('.');
    return Number(parts[0]) * 100 + (parts[1] ? Number((parts[1] + '0').slice(0, 2)) : 0);
  }

  function formatEuros(cents, lang) {
    return new Intl.NumberFormat(lang === 'en' ? 'en-IE' : 'nl-NL', { style: 'currency', currency: 'EUR' }).format(cents / 100);
  }

  function updateTotal(group) {
    var out = document.getElementById(group.getAttribute('data-total'));
    if (!out) return;
    var sum = 0;
    var ok = true;
    group.querySelectorAll('input[data-amount]').forEach(function (input) {
      if (input.value.trim() === '') return;
      var c = parseEuros(input.value);
      if (isNaN(c)) ok = false;
      else sum += c;
    });
    out.textContent = ok ? formatEuros(sum, document.documentElement.lang) : '–';
  }

  function renumber(row, n) {
    row.querySelectorAll('[name], [id], [for], [aria-describedby]').forEach(function (el) {
      ['name', 'id', 'for', 'aria-describedby'].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v) el.setAttribute(a, v.replace(/\.\d+\./g, '.' + n + '.').replace(/-\d+-/g, '-' + n + '-'));
      });
      if (el.tagName === 'INPUT') el.value = '';
    });
    row.querySelectorAll('[data-label]').forEach(function (el) {
      el.textContent = el.getAttribute('data-label').replace('{n}', String(n + 1));
    });
    row.querySelectorAll('.utrecht-form-field-error-message').forEach(function (el) {
      el.remove();
    });
    row.querySelectorAll('.utrecht-form-field--invalid').forEach(function (el) {
      el.classList.remove('utrecht-form-field--invalid');
    });
    row.querySelectorAll('[aria-invalid]').forEach(function (el) {
      el.removeAttribute('aria-invalid');
    });
  }

  document.querySelectorAll('[data-lines]').forEach(function (group) {
    group.addEventListener('input', function (e) {
      if (e.target && e.target.hasAttribute('data-amount')) updateTotal(group);
    });
    updateTotal(group);
    var add = document.querySelector('button[data-add-line="' + group.id + '"]');
    if (!add) return;
    add.addEventListener('click', function (e) {
      var rows = group.querySelectorAll('[data-line]');
      var last = rows[rows.length - 1];
      if (!last) return;
      e.preventDefault();
      var copy = last.cloneNode(true);
      renumber(copy, rows.length);
      last.after(copy);
      var first = copy.querySelector('input');
      if (first) first.focus();
      updateTotal(group);
    });
  });

  // Conditional fields: <div data-show-when="name=value"> is shown only when that radio is chosen.
  document.querySelectorAll('[data-show-when]').forEach(function (block) {
    var parts = block.getAttribute('data-show-when').split('=');
    var radios = document.querySelectorAll('input[name="' + parts[0] + '"]');
    function sync() {
      var chosen = document.querySelector('input[name="' + parts[0] + '"]:checked');
      var show = chosen ? parts[1].split('|').indexOf(chosen.value) >= 0 : false;
      block.hidden = !show && !block.querySelector('[aria-invalid="true"]');
    }
    radios.forEach(function (r) {
      r.addEventListener('change', sync);
    });
    sync();
  });

  // Upload progress: forms with files are sent with XMLHttpRequest so the bar can move.
  document.querySelectorAll('form[data-progress]').forEach(function (form) {
    var bar = document.getElementById(form.getAttribute('data-progress'));
    var sending = false;
    form.addEventListener('submit', function (e) {
      var submitter = e.submitter;
      if (submitter && submitter.getAttribute('data-add-line')) return;
      var files = form.querySelector('input[type="file"]');
      if (!bar || !window.FormData || !files || files.files.length === 0) return;
      e.preventDefault();
      if (sending) return;
      sending = true;
      var data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      // getAttribute: form.action is shadowed by the buttons named "action".
      var url = new URL(form.getAttribute('action') || '', window.location.href).href;
      var xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      bar.hidden = false;
      xhr.upload.addEventListener('progress', function (p) {
        if (p.lengthComputable) bar.value = Math.round((p.loaded / p.total) * 100);
      });
      xhr.addEventListener('load', function () {
        // Redirected (303 after success): the page it ended on is already here, with its
        // one-time confirmation (loading it again would lose that), at its own address.
        if (xhr.responseURL && xhr.responseURL.split('#')[0] !== url.split('#')[0]) window.history.replaceState(null, '', xhr.responseURL);
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener('error', function () {
        sending = false;
        bar.hidden = true;
        HTMLFormElement.prototype.submit.call(form);
      });
      xhr.send(data);
    });
  });
})();
