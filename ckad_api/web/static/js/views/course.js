// Reading the course: chapters, a chapter's sections, one section, and search.

import { get, qs } from '../api.js';
import { add, h, plural, swap } from '../dom.js';
import { crumbs, loading, pageTitle, wrapTables } from '../ui.js';

function searchForm(value = '') {
  const input = h('input', { type: 'search', name: 'q', id: 'search-q', value, required: true, maxlength: 200, placeholder: 'e.g. readiness probe' });
  const form = h('form', { class: 'search', role: 'search' },
    h('label', { for: 'search-q' }, 'Search the course'),
    h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Search')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q) location.hash = `#/search?${new URLSearchParams({ q })}`;
  });
  return form;
}

export async function index(page) {
  add(page, pageTitle('Course'), searchForm());
  const status = loading();
  add(page, status);
  const [course, chapters] = await Promise.all([get('/course'), get('/chapters')]);
  swap(status,
    h('p', { class: 'lede' }, `${course.title} · written for Kubernetes ${course.kubernetes_version} · content ${course.version}`),
    h('ol', { class: 'cards chapters' },
      chapters.items.map((c) =>
        h('li', { class: 'card' },
          h('h2', null, h('a', { href: `#/chapter/${encodeURIComponent(c.id)}` }, h('span', { class: 'num' }, `${c.number}. `), c.title)),
          h('p', null, c.summary),
          h('p', { class: 'meta' }, `${plural(c.section_count, 'section')} · ${plural(c.question_count, 'question')}`),
        ),
      ),
    ),
  );
}

export async function chapter(page, ctx) {
  const status = loading();
  add(page, status);
  const [c, labs] = await Promise.all([get(`/chapters/${encodeURIComponent(ctx.params.id)}`), get('/labs')]);
  ctx.setTitle(c.title);
  const own = labs.items.filter((lab) => lab.chapter_id === c.id);
  const review = new URLSearchParams({ chapter: c.id });
  const practice = new URLSearchParams({ chapter: c.id, mode: 'practice' });
  swap(status,
    crumbs([['Course', '#/course'], [`Chapter ${c.number}`]]),
    pageTitle(c.title, c.summary),
    c.objectives.length
      ? h('section', { class: 'card' }, h('h2', null, 'After this chapter you can'), h('ul', null, c.objectives.map((o) => h('li', null, o))))
      : null,
    h('section', { 'aria-labelledby': 'sections-title' },
      h('h2', { id: 'sections-title' }, 'Sections'),
      h('ol', { class: 'section-list' },
        c.sections.map((sec) =>
          h('li', null,
            h('a', { href: `#/read/${encodeURIComponent(sec.id)}` }, sec.title),
            sec.question_count ? h('span', { class: 'meta' }, ` · ${plural(sec.question_count, 'question')}`) : null,
          ),
        ),
      ),
    ),
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: `#/review?${review}` }, 'Review this chapter'),
      h('a', { class: 'button', href: `#/review?${practice}` }, 'Practise (records nothing)'),
    ),
    own.length
      ? h('section', { 'aria-labelledby': 'labs-title' },
          h('h2', { id: 'labs-title' }, 'Labs'),
          h('ul', null, own.map((lab) => h('li', null, h('a', { href: `#/lab/${encodeURIComponent(lab.id)}` }, lab.title)))),
        )
      : null,
  );
}

export async function section(page, ctx) {
  const status = loading();
  add(page, status);
  const s = await get(`/sections/${encodeURIComponent(ctx.params.id)}`);
  ctx.setTitle(s.title);
  const body = wrapTables(h('article', { class: 'prose', html: s.html }));
  const link = (id, label, rel) =>
    id ? h('a', { class: 'button', href: `#/read/${encodeURIComponent(id)}`, rel }, label) : h('span');
  swap(status,
    crumbs([['Course', '#/course'], [s.chapter_title, `#/chapter/${encodeURIComponent(s.chapter_id)}`], [s.title]]),
    pageTitle(s.title),
    body,
    h('nav', { class: 'pager', 'aria-label': 'Sections' },
      link(s.previous_section_id, '← Previous', 'prev'),
      s.question_count
        ? h('a', { class: 'button primary', href: `#/review?${new URLSearchParams({ chapter: s.chapter_id })}` }, 'Review this chapter')
        : h('span'),
      link(s.next_section_id, 'Next →', 'next'),
    ),
  );
}

export async function search(page, ctx) {
  const q = ctx.query.get('q') || '';
  add(page, pageTitle('Search'), searchForm(q));
  if (!q) return;
  const status = loading('Searching…');
  add(page, status);
  const result = await get(`/search${qs({ q, limit: 20 })}`);
  if (!result.items.length) {
    swap(status, h('p', { role: 'status' }, `Nothing in the course matches “${q}”.`));
    return;
  }
  swap(status,
    h('p', { role: 'status', class: 'meta' }, `${plural(result.items.length, 'section')} match “${result.query}”.`),
    h('ol', { class: 'results' },
      result.items.map((hit) =>
        h('li', { class: 'card' },
          h('h2', null, h('a', { href: `#/read/${encodeURIComponent(hit.section_id)}` }, hit.title)),
          // The snippet is HTML-escaped by the API, with matches in <mark>.
          h('p', { class: 'snippet', html: hit.snippet }),
        ),
      ),
    ),
  );
}
