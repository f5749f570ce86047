// The form layer every form of the pages uses: it binds a form's fields
// to a command's JSON body and sends it the way the API wants commands
// sent. One form, one submission:
//
//   - If-Match carries the version of the case the page shows, so a case
//     someone else changed meanwhile answers 409 and the form says so,
//     offering the fresh view;
//   - one Idempotency-Key per submission, made when the form opens and
//     kept when the answer does not come (network error, 5xx), so a
//     double click or a retry writes once; a new one after an answer;
//   - the form is disabled while it is sent;
//   - the API's problem (application/problem+json with field and detail)
//     is shown next to the field it names, or at the top, and what the
//     user typed stays;
//   - a session that expired asks to sign in again (in another tab) and
//     keeps the typed data.
//
// Business dates default to today in Poland. Text goes into the page as
// text nodes, never as HTML.

import { t } from './i18n.js';

/** today is the day (YYYY-MM-DD) it is now in Poland. */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Warsaw' }).format(new Date());
}

/** newKey is a fresh Idempotency-Key. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

/** The forms open on the page, which live refreshes must not redraw. */
const open = new Set();

/** formsOpen tells whether a form is open on the page (then a live refresh waits). */
export function formsOpen() {
  for (const f of open) if (!f.isConnected) open.delete(f);
  return open.size > 0;
}

/** problemText says in the page's language what the API's problem says. */
export function problemText(p) {
  if (p.code === 'required') return t('required');
  const key = `problem.${p.code}`;
  const known = t(key);
  return known !== key ? known : p.detail || p.title || '';
}

/**
 * commandForm builds a form that sends a command.
 *
 * spec.id        the form's id (its fields' ids start with it)
 * spec.title     the form's heading (optional)
 * spec.fields    [{ name, label, type ('date', 'text', 'textarea'), value, required, hint }]
 *                a field of type 'date' defaults to today; name is the
 *                body's member ("reason" goes with the command's decision)
 * spec.fixed     members of the body the user does not type (e.g. status)
 * spec.path      where the command is POSTed
 * spec.version   a function answering the version the page shows (If-Match)
 * spec.submit    the submit button's text
 * spec.onDone    called with the API's answer after the command was written
 * spec.onCancel  called when the user closes the form (a Cancel button when given)
 * spec.onFresh   called when the user asks for the fresh view after a conflict
 */
export function commandForm(spec) {
  const key = { value: newKey() };
  const msg = el('div', { class: 'form-message', id: `${spec.id}-message`, role: 'status', 'aria-live': 'polite' });
  const inputs = {};
  const errors = {};
  const nodes = [];
  for (const f of spec.fields || []) {
    const id = `${spec.id}-${f.name}`;
    const attrs = { id, name: f.name, 'aria-describedby': `${id}-error`, required: f.required || undefined };
    const input = f.type === 'textarea'
      ? el('textarea', { ...attrs, rows: 3 })
      : el('input', { ...attrs, type: f.type || 'text' });
    input.value = f.value !== undefined ? f.value : f.type === 'date' ? today() : '';
    if (f.type === 'date') input.max = today();
    inputs[f.name] = input;
    errors[f.name] = el('p', { class: 'error field-error', id: `${id}-error` });
    nodes.push(el('div', { class: 'field' },
      el('label', { for: id }, f.label, f.required ? el('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : ''),
      input, f.hint ? el('small', { class: 'muted' }, f.hint) : '', errors[f.name]));
  }
  const button = el('button', { type: 'submit' }, spec.submit || t('form.save'));
  const buttons = el('div', { class: 'form-buttons' }, button);
  if (spec.onCancel) {
    const cancel = el('button', { type: 'button', class: 'secondary' }, t('form.cancel'));
    cancel.addEventListener('click', () => {
      open.delete(form);
      spec.onCancel();
    });
    buttons.append(cancel);
  }
  let busy = false;
  const fieldset = el('fieldset', {}, ...nodes, buttons);
  const form = el('form', { class: 'command', id: spec.id, novalidate: true, 'aria-labelledby': spec.title ? `${spec.id}-title` : undefined },
    spec.title ? el('h3', { id: `${spec.id}-title` }, spec.title) : '', msg, fieldset);
  open.add(form);
  if (spec.onCancel) {
    // Escape closes the form as its Cancel button does.
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !busy) {
        e.preventDefault();
        open.delete(form);
        spec.onCancel();
      }
    });
  }

  const clear = () => {
    msg.replaceChildren();
    msg.className = 'form-message';
    delete msg.dataset.code;
    for (const [name, input] of Object.entries(inputs)) {
      errors[name].textContent = '';
      input.removeAttribute('aria-invalid');
    }
  };
  const say = (code, ...children) => {
    msg.className = 'form-message error';
    msg.dataset.code = code;
    msg.replaceChildren(...children);
  };
  const fieldProblem = (name, text) => {
    errors[name].textContent = text;
    inputs[name].setAttribute('aria-invalid', 'true');
    inputs[name].focus();
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return; // a second click while the first is sent
    clear();
    // What is required the API judges, and its problem names the field.
    const body = { ...(spec.fixed || {}) };
    for (const [name, input] of Object.entries(inputs)) {
      if (input.value.trim() !== '') body[name] = input.value.trim();
    }
    busy = true;
    fieldset.disabled = true;
    form.setAttribute('aria-busy', 'true');
    let res;
    let data = {};
    try {
      const headers = { Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': key.value };
      const version = spec.version ? spec.version() : undefined;
      if (version !== undefined && version !== null) headers['If-Match'] = `"${version}"`;
      res = await fetch(spec.path, { method: 'POST', headers, credentials: 'same-origin', body: JSON.stringify(body) });
      try {
        data = await res.json();
      } catch {
        // no body
      }
    } catch {
      // No answer: the command may or may not have been written; a retry
      // with the same key writes it at most once.
      say('offline', t('offline'));
      return;
    } finally {
      busy = false;
      fieldset.disabled = false;
      form.removeAttribute('aria-busy');
    }
    if (res.ok) {
      open.delete(form);
      key.value = newKey();
      form.dataset.done = 'true';
      spec.onDone && spec.onDone(data);
      return;
    }
    if (res.status >= 500) {
      say(String(res.status), data.detail || `HTTP ${res.status}`);
      return;
    }
    key.value = newKey(); // the API answered: the next submission is a new one
    if (res.status === 401) {
      const q = new URLSearchParams({ next: location.pathname + location.search });
      say('session_expired', t('form.expired'), ' ',
        el('a', { href: `/login?${q}`, target: '_blank', rel: 'noopener' }, t('form.signin')));
      return;
    }
    if (res.status === 409 && data.code === 'version_conflict') {
      const fresh = el('button', { type: 'button', class: 'secondary', id: `${spec.id}-fresh` }, t('form.fresh'));
      fresh.addEventListener('click', () => {
        open.delete(form);
        spec.onFresh && spec.onFresh();
      });
      say('version_conflict', t('form.conflict'), ' ', fresh);
      return;
    }
    const text = problemText(data);
    if (data.field && inputs[data.field]) {
      fieldProblem(data.field, text);
      msg.dataset.code = data.code || String(res.status);
      return;
    }
    say(data.code || String(res.status), text || `HTTP ${res.status}`);
  });
  form.focusFirst = () => {
    const first = form.querySelector('input, textarea, button');
    if (first) first.focus();
  };
  return form;
}
