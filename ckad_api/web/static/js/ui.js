// Shared pieces of the pages: problems, headings, loading states, breadcrumbs.

import { add, clear, fill, h, swap } from './dom.js';

/** An API problem (or any error) as an alert: its `detail`, and per-field errors. */
export function problemBox(error) {
  const detail = error?.detail || error?.message || String(error);
  const title = error?.title && !['Error', 'Bad Request'].includes(error.title) ? error.title : '';
  const box = h(
    'div',
    { class: 'problem', role: 'alert' },
    h('p', null, title ? h('strong', null, `${title}: `) : null, detail),
  );
  if (error?.errors && typeof error.errors === 'object') {
    add(box,
      h(
        'ul',
        null,
        Object.entries(error.errors).map(([name, messages]) =>
          h('li', null, h('code', null, name), ` ${[].concat(messages).join('; ')}`),
        ),
      ),
    );
  }
  return box;
}

/** A place in a page that shows one message (an error or a notice) at a time. */
export function messageSlot() {
  const el = h('div', { class: 'slot', 'aria-live': 'polite' });
  return {
    el,
    error(err) {
      fill(el, problemBox(err));
    },
    notice(text) {
      fill(el, h('p', { class: 'notice', role: 'status' }, text));
    },
    clear() {
      clear(el);
    },
  };
}

export function pageTitle(text, sub) {
  return h(
    'header',
    { class: 'page-head' },
    h('h1', { tabindex: '-1' }, text),
    sub ? h('p', { class: 'lede' }, sub) : null,
  );
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** Breadcrumbs: [[label, href], ..., [label]] */
export function crumbs(items) {
  return h(
    'nav',
    { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h(
      'ol',
      null,
      items.map(([label, href]) =>
        h('li', null, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label)),
      ),
    ),
  );
}

/** Make wide tables in server-rendered HTML scroll on their own instead of the page. */
export function wrapTables(root) {
  for (const table of root.querySelectorAll('table')) {
    if (table.parentElement?.classList.contains('table-wrap')) continue;
    const wrapper = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Table' });
    swap(table, wrapper);
    add(wrapper, table);
  }
  for (const pre of root.querySelectorAll('pre')) pre.setAttribute('tabindex', '0');
  return root;
}

export const QUESTION_TYPES = {
  single_choice: 'Single choice',
  multi_choice: 'Multiple choice',
  true_false: 'True or false',
  short_answer: 'Short answer',
  kubectl: 'kubectl command',
  manifest: 'Manifest (YAML)',
  flashcard: 'Flashcard',
};

export const RATINGS = [
  ['again', 'Again'],
  ['hard', 'Hard'],
  ['good', 'Good'],
  ['easy', 'Easy'],
];

/** Local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(date, timeZone) {
  try {
    return new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

/** "3 Dec" from "2026-12-03". */
export function shortDay(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
}

export function longDay(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
}

export function dateTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
