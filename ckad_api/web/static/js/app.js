// The app shell: a hash router (#/course, #/review?chapter=x, ...), the navigation, the
// signed-in learner, and one rule: a failing page shows the problem's detail, never a blank.

import { get, onUnauthorized, post, setToken, token } from './api.js';
import { add, fill, h } from './dom.js';
import { problemBox } from './ui.js';
import * as auth from './views/auth.js';
import * as course from './views/course.js';
import * as dashboard from './views/dashboard.js';
import * as labs from './views/labs.js';
import * as review from './views/review.js';
import * as settings from './views/settings.js';
import * as tutor from './views/tutor.js';

const ROUTES = [
  { path: '', view: dashboard.render, nav: 'dashboard', title: 'Dashboard' },
  { path: 'login', view: auth.login, public: true, title: 'Sign in' },
  { path: 'signup', view: auth.signup, public: true, title: 'Sign up' },
  { path: 'course', view: course.index, nav: 'course', title: 'Course' },
  { path: 'chapter/:id', view: course.chapter, nav: 'course', title: 'Chapter' },
  { path: 'read/:id', view: course.section, nav: 'course', title: 'Section' },
  { path: 'search', view: course.search, nav: 'course', title: 'Search' },
  { path: 'review', view: review.render, nav: 'review', title: 'Review' },
  { path: 'labs', view: labs.index, nav: 'labs', title: 'Labs' },
  { path: 'lab/:id', view: labs.lab, nav: 'labs', title: 'Lab' },
  { path: 'tutor', view: tutor.render, nav: 'tutor', title: 'Tutor' },
  { path: 'settings', view: settings.render, nav: 'settings', title: 'Settings' },
];

const state = { me: null, cleanups: [], flash: null, generation: 0 };

export function navigate(path) {
  const target = `#/${path}`;
  if (location.hash === target) render();
  else location.hash = target;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const cut = raw.indexOf('?');
  const path = (cut === -1 ? raw : raw.slice(0, cut)).replace(/\/+$/, '');
  const query = new URLSearchParams(cut === -1 ? '' : raw.slice(cut + 1));
  return { path, query };
}

function match(path) {
  const parts = path ? path.split('/') : [];
  for (const route of ROUTES) {
    const pattern = route.path ? route.path.split('/') : [];
    if (pattern.length !== parts.length) continue;
    const params = {};
    const ok = pattern.every((seg, i) => {
      if (seg.startsWith(':')) {
        try {
          params[seg.slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          return false;
        }
        return true;
      }
      return seg === parts[i];
    });
    if (ok) return { route, params };
  }
  return null;
}

function updateChrome(route) {
  const signedIn = Boolean(state.me);
  document.body.classList.toggle('signed-in', signedIn);
  for (const link of document.querySelectorAll('#nav a[data-nav]')) {
    if (link.dataset.nav === route?.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const who = document.getElementById('who');
  who.textContent = signedIn ? state.me.display_name || state.me.username : '';
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('menu-toggle').hidden = !signedIn;
  closeMenu();
}

function closeMenu() {
  document.body.classList.remove('menu-open');
  document.getElementById('menu-toggle').setAttribute('aria-expanded', 'false');
}

async function render() {
  state.generation += 1;
  const generation = state.generation;
  for (const fn of state.cleanups.splice(0)) {
    try {
      fn();
    } catch {
      /* a view's cleanup must never stop the next page */
    }
  }
  const { path, query } = parseHash();
  const found = match(path);
  const main = document.getElementById('main');
  if (found && !found.route.public && !token()) {
    const search = query.toString();
    const next = path + (search ? `?${search}` : '');
    location.replace(next ? `#/login?next=${encodeURIComponent(next)}` : '#/login');
    return;
  }
  if (found && found.route.public && token()) {
    location.replace('#/');
    return;
  }
  if (token() && !state.me) {
    try {
      state.me = await get('/me');
    } catch (err) {
      if (generation !== state.generation) return;
      if (!token()) return; // a 401: the handler already moved to the sign-in page
      fill(main, problemBox(err));
      return;
    }
  }
  if (generation !== state.generation) return;
  updateChrome(found?.route);
  const page = h('div', { class: 'page' });
  fill(main, page);
  if (state.flash) {
    add(page, h('p', { class: 'notice', role: 'status' }, state.flash));
    state.flash = null;
  }
  if (!found) {
    document.title = 'Not found · CKAD tutor';
    add(page,
      h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', null, 'There is nothing at this address. ', h('a', { href: '#/' }, 'Go to the dashboard'), '.'),
    );
    focusHeading(page);
    return;
  }
  document.title = `${found.route.title} · CKAD tutor`;
  const ctx = {
    params: found.params,
    query,
    me: state.me,
    navigate,
    setMe(me) {
      state.me = me;
      updateChrome(found.route);
    },
    setTitle(title) {
      document.title = `${title} · CKAD tutor`;
    },
    onCleanup(fn) {
      state.cleanups.push(fn);
    },
    alive: () => generation === state.generation,
    signedIn(me, message) {
      state.me = me;
      state.flash = message || null;
      navigate(query.get('next') || '');
    },
  };
  try {
    await found.route.view(page, ctx);
  } catch (err) {
    if (generation !== state.generation) return;
    if (err?.status === 401 && !token()) return;
    add(page, problemBox(err));
  }
  if (generation === state.generation) focusHeading(page);
}

let firstRender = true;
function focusHeading(page) {
  // Move focus to the new page's heading so screen readers announce it; not on first
  // load, where the browser's own focus handling is expected.
  if (firstRender) {
    firstRender = false;
    return;
  }
  const heading = page.querySelector('h1');
  if (heading && !page.contains(document.activeElement)) heading.focus({ preventScroll: false });
  window.scrollTo(0, 0);
}

async function signOut() {
  try {
    await post('/auth/logout');
  } catch {
    /* the token is dropped locally whatever the server says */
  }
  setToken(null);
  state.me = null;
  state.flash = 'You are signed out.';
  navigate('login');
}

function showBanner(error) {
  fill(document.getElementById('banner-body'), problemBox(error));
  document.getElementById('banner').hidden = false;
}

function init() {
  onUnauthorized(() => {
    state.me = null;
    state.flash = 'Your session has ended. Sign in again.';
    location.replace('#/login');
  });
  document.getElementById('sign-out').addEventListener('click', signOut);
  const toggle = document.getElementById('menu-toggle');
  toggle.addEventListener('click', () => {
    const open = !document.body.classList.contains('menu-open');
    document.body.classList.toggle('menu-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  });
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    const heading = document.querySelector('#main h1') || document.getElementById('main');
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  });
  window.addEventListener('hashchange', render);
  window.addEventListener('unhandledrejection', (event) => {
    event.preventDefault();
    showBanner(event.reason);
  });
  window.addEventListener('error', (event) => {
    showBanner({ title: 'Error', detail: event.message || 'something went wrong in the page' });
  });
  document.getElementById('banner-close').addEventListener('click', () => {
    document.getElementById('banner').hidden = true;
  });
  render();
}

init();
