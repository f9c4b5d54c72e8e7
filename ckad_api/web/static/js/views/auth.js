// Sign in and sign up: both end with a token stored for the API client.

import { get, post, setToken } from '../api.js';
import { add, field, h } from '../dom.js';
import { messageSlot, pageTitle } from '../ui.js';

function form(fields, submitLabel, onSubmit) {
  const slot = messageSlot();
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const el = h('form', { class: 'stack narrow', novalidate: false }, slot.el, fields, h('div', { class: 'actions' }, button));
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    slot.clear();
    button.disabled = true;
    try {
      await onSubmit();
    } catch (err) {
      slot.error(err);
      button.disabled = false;
    }
  });
  return el;
}

export async function login(page, ctx) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  add(page,
    h('div', { class: 'auth' },
      pageTitle('Sign in', 'Study the Certified Kubernetes Application Developer exam: read, review, practise in labs, ask the tutor.'),
      form([field('Username', username), field('Password', password)], 'Sign in', async () => {
        const result = await post('/auth/token', { username: username.value.trim(), password: password.value });
        setToken(result.access_token);
        ctx.signedIn(await get('/me'));
      }),
      h('p', null, 'New here? ', h('a', { href: '#/signup' }, 'Create an account'), '.'),
    ),
  );
}

export async function signup(page, ctx) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const displayName = h('input', { name: 'display_name', autocomplete: 'name', maxlength: 100 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email' });
  add(page,
    h('div', { class: 'auth' },
      pageTitle('Create an account'),
      form(
        [
          field('Username', username, '3 to 32 lowercase letters, digits or dashes; it also names your lab namespace.'),
          field('Password', password, 'At least 10 characters; a passphrase is fine.'),
          field('Display name (optional)', displayName),
          field('Email (optional)', email),
        ],
        'Create account',
        async () => {
          const body = { username: username.value.trim(), password: password.value };
          if (displayName.value.trim()) body.display_name = displayName.value.trim();
          if (email.value.trim()) body.email = email.value.trim();
          const result = await post('/auth/register', body);
          setToken(result.access_token);
          ctx.signedIn(result.learner, `Welcome, ${result.learner.display_name || result.learner.username}! Start with the course or a first review.`);
        },
      ),
      h('p', null, 'Already have an account? ', h('a', { href: '#/login' }, 'Sign in'), '.'),
    ),
  );
}
